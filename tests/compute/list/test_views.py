import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.hosts.models import Host, HostState
from apps.operations.models import Operation
from tests.conftest import PASSWORD
from tests.helpers import make_vm


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_list_shows_vms_with_state_vcpus_memory(client, demo_host, operator):
    vm = make_vm(demo_host)
    page = login(client, operator).get(reverse("compute:vm_list")).content.decode()
    assert vm.name in page and "shut off" in page and "256 MiB" in page
    assert f"/vms/{vm.pk}/start/" in page


def test_list_filtered_by_host(client, demo_host, admin):
    vm = make_vm(demo_host)
    other = Host.objects.create(name="other", uri="test+unix:///default?x")
    login(client, admin)
    assert vm.name in client.get(reverse("compute:vm_list"), {"host": demo_host.pk}).content.decode()
    assert vm.name not in client.get(reverse("compute:vm_list"), {"host": other.pk}).content.decode()
    # A host that is not there (or not the user's to see) is dropped from the filter, not a 404.
    response = client.get(reverse("compute:vm_list"), {"host": "nope"})
    assert response.status_code == 200 and vm.name in response.content.decode()


def test_list_query_count_does_not_grow_with_vms(client, demo_host, admin, django_assert_max_num_queries):
    for _ in range(15):
        make_vm(demo_host)
    login(client, admin)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("compute:vm_list")).status_code == 200


def test_htmx_request_gets_the_partial(client, demo_host, admin):
    make_vm(demo_host)
    body = login(client, admin).get(reverse("compute:vm_list"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="vm-table"' in body and "<html" not in body


def test_viewer_sees_no_buttons_and_a_forged_post_is_refused_and_audited(client, demo_host, viewer):
    vm = make_vm(demo_host)
    login(client, viewer)
    assert "/start/" not in client.get(reverse("compute:vm_detail", args=[vm.pk])).content.decode()
    response = client.post(reverse("compute:vm_power", args=[vm.pk, "start"]))
    assert response.status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.filter(outcome="denied", actor=viewer, target_name=vm.name).count() == 1


def test_user_without_a_grant_sees_nothing_and_gets_404_on_the_page(client, demo_host, outsider):
    vm = make_vm(demo_host)
    login(client, outsider)
    assert vm.name not in client.get(reverse("compute:vm_list")).content.decode()
    # Like a missing one: the answer does not tell that this id exists.
    assert client.get(reverse("compute:vm_detail", args=[vm.pk])).status_code == 404
    assert client.get(reverse("compute:vm_detail", args=[999999])).status_code == 404


def test_post_without_csrf_is_refused(demo_host, operator):
    vm = make_vm(demo_host)
    client = login(Client(enforce_csrf_checks=True), operator)
    assert client.post(reverse("compute:vm_power", args=[vm.pk, "start"])).status_code == 403
    assert not Operation.objects.exists()


def test_power_actions_need_post(client, demo_host, operator):
    vm = make_vm(demo_host)
    assert login(client, operator).get(reverse("compute:vm_power", args=[vm.pk, "start"])).status_code == 405


def test_operator_post_queues_and_returns_at_once(client, demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    login(client, operator)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("compute:vm_power", args=[vm.pk, "start"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert Operation.objects.get().status == "queued"


def test_unknown_action_is_404(client, demo_host, operator):
    vm = make_vm(demo_host)
    assert login(client, operator).post(reverse("compute:vm_power", args=[vm.pk, "explode"])).status_code == 404


@pytest.mark.parametrize("url", ["compute:vm_list", "hosts:host_list", "audit:event_list", "operations:panel"])
def test_every_page_renders_with_a_host_down(client, admin, url):
    Host.objects.create(
        name="gone",
        uri="qemu+ssh://nobody@192.0.2.1/system",
        state=HostState.DOWN,
        last_error="Cannot recv data: Connection reset by peer",
    )
    response = login(client, admin).get(reverse(url))
    assert response.status_code == 200
    if url == "hosts:host_list":
        assert "Connection reset by peer" in response.content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("compute:vm_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
