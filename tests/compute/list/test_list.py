"""The VM list as a user drives it: filter, sort, page, and bulk actions reported per VM."""

import re

import pytest
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.audit.models import AuditEvent
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.hosts.virt import connection
from apps.operations.models import Operation
from tests.conftest import PASSWORD
from tests.helpers import define_test_domain, make_vm, unique


@pytest.fixture
def vm(demo_host):
    """vm("web", state=…, vcpus=…): a test-driver domain and its row; names get a per-test prefix
    (the test driver is shared with everything else running), which `names` strips again."""
    prefix = unique("l") + "-"

    def make(name, *, state="shutoff", vcpus=1):
        uuid = define_test_domain(prefix + name, vcpus=vcpus, start=state != "shutoff")
        conn = connection.get(demo_host.uri)
        if state == "paused":
            domains.power(conn, uuid, "suspend")
        return vm_inventory_apply(host=demo_host, uuid=uuid, info=domains.domain_info(conn, uuid))

    make.prefix = prefix
    return make


def names(client, **params):
    body = client.get(reverse("compute:vm_list"), params, HTTP_HX_REQUEST="true").content.decode()
    return [n.split("-", 2)[-1] for n in re.findall(r'<a href="/vms/\d+/">([^<]+)</a>', body)]


@pytest.fixture
def signed_in(client, admin):
    assert client.login(username=admin.username, password=PASSWORD)
    return client


def test_filter_by_name_and_state(signed_in, vm):
    vm("web-1", state="running")
    vm("db-1")
    vm("web-2", state="paused")
    assert names(signed_in, q="web") == ["web-1", "web-2"]
    assert names(signed_in, state="running") == ["web-1"]
    assert names(signed_in, state="active") == ["web-1", "web-2"]
    assert names(signed_in, q="WEB", state="inactive") == []
    assert names(signed_in, q="DB") == ["db-1"]
    assert "No virtual machines match" in signed_in.get(reverse("compute:vm_list"), {"q": "nothing"}).content.decode()


def test_sort_by_column_both_ways(signed_in, vm):
    vm("b", vcpus=4)
    vm("a", vcpus=1)
    vm("c", vcpus=2)
    assert names(signed_in) == ["a", "b", "c"]
    assert names(signed_in, sort="-name") == ["c", "b", "a"]
    assert names(signed_in, sort="vcpus") == ["a", "c", "b"]
    assert names(signed_in, sort="-vcpus") == ["b", "c", "a"]
    # An unknown sort is ignored, not an error.
    assert names(signed_in, sort="drop table") == ["a", "b", "c"]


def test_pages_keep_the_filter(signed_in, vm):
    for i in range(30):
        vm(f"vm-{i:02d}")
    vm("other")
    first = names(signed_in, q="vm-", per_page=25)
    second = names(signed_in, q="vm-", per_page=25, page=2)
    assert first == [f"vm-{i:02d}" for i in range(25)] and second == [f"vm-{i:02d}" for i in range(25, 30)]
    body = signed_in.get(reverse("compute:vm_list"), {"q": "vm-", "per_page": 25}).content.decode()
    assert "1–25 of 30" in body and "q=vm-&amp;per_page=25&amp;page=2" in body


def test_bulk_start_reports_each_vm(client, vm, operator, django_capture_on_commit_callbacks):
    """Start queued for 3 VMs, 1 refused: the refusal names the VM and why; only the startable ones are queued."""
    a, b, c = vm("a"), vm("b"), vm("c")
    running = vm("d", state="running")
    assert client.login(username=operator.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("compute:vm_bulk"),
            {"action": "start", "vm": [a.pk, b.pk, c.pk, running.pk]},
            HTTP_HX_REQUEST="true",
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Start queued for 3 VMs, 1 refused" in body and f"{running.name}: it is running" in body
    queued = Operation.objects.filter(kind="vm.start").values_list("target_name", flat=True)
    assert sorted(queued) == sorted([a.name, b.name, c.name])
    assert AuditEvent.objects.filter(action="vm.start", outcome="requested").count() == 3


def test_bulk_refuses_each_vm_the_user_may_not_power(client, demo_host, django_capture_on_commit_callbacks):
    from apps.accounts.services import user_create

    mine, theirs, hidden = make_vm(demo_host), make_vm(demo_host), make_vm(demo_host)
    user, _ = user_create(actor=None, username="vmu", password=PASSWORD)
    grant_add(actor=None, user=user, role="VM user", scope=mine)
    grant_add(actor=None, user=user, role="Viewer", scope=theirs)
    assert client.login(username="vmu", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False):
        body = client.post(
            reverse("compute:vm_bulk"), {"action": "start", "vm": [mine.pk, theirs.pk, hidden.pk]}
        ).content.decode()
    assert "Start queued for 1 VM, 2 refused" in body
    assert f"{theirs.name}: You may not" in body
    assert hidden.name not in body and f"#{hidden.pk}: no such VM" in body
    assert list(Operation.objects.values_list("target_name", flat=True)) == [mine.name]
    assert AuditEvent.objects.filter(outcome="denied", actor=user, target_name=theirs.name).exists()


def test_bulk_without_a_choice_is_a_clear_400(client, demo_host, operator):
    make_vm(demo_host)
    assert client.login(username=operator.username, password=PASSWORD)
    response = client.post(reverse("compute:vm_bulk"), {"action": "start"})
    assert response.status_code == 400 and b"Choose one or more VMs" in response.content
    assert client.post(reverse("compute:vm_bulk"), {"action": "explode", "vm": [1]}).status_code == 400
