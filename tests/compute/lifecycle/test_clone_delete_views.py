"""The clone and delete pages through the Django test client: what they show, the errors they
give back on the form, and where a queued operation sends the browser. Tasks are not sent here
(the on-commit callbacks are captured); test_clone.py and test_delete.py run the work."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains
from apps.operations.models import Operation
from tests.compute.lifecycle.lifecycle_helpers import make_source, test_pool  # noqa: F401  (a fixture)
from tests.compute.lifecycle.test_delete import vm_deleter  # noqa: F401  (a fixture)
from tests.helpers import unique

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def source(demo_host, pool, test_driver):
    return make_source(demo_host, pool, test_driver)


def test_the_clone_page_lists_what_is_copied_and_what_is_shared(client, operator, source):
    client.force_login(operator)
    page = client.get(reverse("compute:vm_clone", args=[source.pk])).content.decode()
    assert f'value="{source.name}-clone"' in page
    assert f"/default-pool/{source.name}-0.qcow2" in page and 'name="pool_vda"' in page
    assert "/isos/debian.iso" in page and "shared, not copied" in page
    assert "shut it off first" not in page


def test_the_clone_page_says_a_running_vm_must_be_shut_off(client, operator, source, demo_host, test_driver):
    domains.power(test_driver, str(source.uuid), "start")
    vm_inventory_apply(host=demo_host, uuid=str(source.uuid), info=domains.domain_info(test_driver, str(source.uuid)))
    client.force_login(operator)
    page = client.get(reverse("compute:vm_clone", args=[source.pk])).content.decode()
    assert "shut it off first" in page
    response = client.post(reverse("compute:vm_clone", args=[source.pk]), {"name": unique("lc")}, **HX)
    assert response.status_code == 200 and 'id="clone-error"' in response.content.decode()
    assert not Operation.objects.filter(kind="vm.clone").exists()


@pytest.mark.parametrize("name", ["has space", "../etc", "<b>", "x" * 65])
def test_a_bad_name_comes_back_on_the_form(client, operator, source, name):
    client.force_login(operator)
    response = client.post(reverse("compute:vm_clone", args=[source.pk]), {"name": name}, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="clone-error"' in body and "<html" not in body
    assert not Operation.objects.filter(kind="vm.clone").exists()


def test_a_good_clone_request_queues_the_operation_and_goes_to_the_list(
    client, operator, source, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    new = unique("lc")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("compute:vm_clone", args=[source.pk]), {"name": new, "pool_vda": "x"}, **HX)
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("compute:vm_list")
    op = Operation.objects.get(kind="vm.clone")
    assert op.params["name"] == new and op.params["disks"][0]["new_name"] == f"{new}-vda.qcow2"


def test_a_team_the_user_is_not_in_is_refused(client, operator, source):
    from apps.accounts.services import team_create

    team = team_create(actor=None, name="red")
    client.force_login(operator)
    response = client.post(reverse("compute:vm_clone", args=[source.pk]), {"name": unique("lc"), "team": team.pk}, **HX)
    assert response.status_code == 200 and "may not put VMs in that team" in response.content.decode()


def test_the_delete_page_lists_disks_and_warns_about_a_running_vm(client, operator, source, demo_host, test_driver):
    domains.power(test_driver, str(source.uuid), "start")
    vm_inventory_apply(host=demo_host, uuid=str(source.uuid), info=domains.domain_info(test_driver, str(source.uuid)))
    client.force_login(operator)
    page = client.get(reverse("compute:vm_delete", args=[source.pk])).content.decode()
    assert "forced off" in page
    assert f"/default-pool/{source.name}-0.qcow2" in page and "default-pool" in page
    assert "CD-ROM: never deleted" in page


def test_a_wrong_confirmation_comes_back_on_the_form(client, operator, source):
    client.force_login(operator)
    response = client.post(
        reverse("compute:vm_delete", args=[source.pk]), {"confirm": source.name + "x", "volumes": "on"}, **HX
    )
    assert response.status_code == 200 and "exactly to confirm" in response.content.decode()
    assert not Operation.objects.filter(kind="vm.delete").exists()


def test_the_right_confirmation_queues_the_delete(client, operator, source, django_capture_on_commit_callbacks):
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("compute:vm_delete", args=[source.pk]), {"confirm": source.name, "volumes": "on"}, **HX
        )
    assert response["HX-Redirect"] == reverse("compute:vm_list")
    op = Operation.objects.get(kind="vm.delete")
    assert [v["name"] for v in op.params["volumes"]] == [f"{source.name}-0.qcow2"]
    assert AuditEvent.objects.filter(action="vm.delete", outcome="requested", target_id=str(source.pk)).exists()


def test_volumes_in_a_pool_the_user_may_not_manage(client, vm_deleter, source):  # noqa: F811
    client.force_login(vm_deleter)
    page = client.get(reverse("compute:vm_delete", args=[source.pk])).content.decode()
    assert "you may not manage this pool" in page
    response = client.post(
        reverse("compute:vm_delete", args=[source.pk]), {"confirm": source.name, "volumes": "on"}, **HX
    )
    assert response.status_code == 200 and 'id="delete-error"' in response.content.decode()
    assert not Operation.objects.filter(kind="vm.delete").exists()


def test_viewer_cannot_open_either_page(client, viewer, source):
    client.force_login(viewer)
    assert client.get(reverse("compute:vm_clone", args=[source.pk])).status_code == 403
    assert client.post(reverse("compute:vm_delete", args=[source.pk]), {"confirm": source.name}).status_code == 403
    assert not Operation.objects.exists()
