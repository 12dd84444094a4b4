"""The operations panel and an operation's record: plain labels, links, filters, and nothing
shown of operations the user may not see."""

import pytest
from django.urls import reverse

from apps.compute.services import vm_power
from apps.operations import labels
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.conftest import PASSWORD
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db


def test_kinds_read_as_plain_words():
    assert labels.label("vm.snapshot_create") == "Take snapshot"
    assert labels.label("vm.destroy") == "Force off"
    assert labels.label("thing.make_ready") == "Make ready"  # a kind not in the table still reads


def test_every_registered_kind_has_a_label():
    from apps.operations import runners

    assert [k for k in runners.kinds() if k not in labels.LABELS] == []


def test_panel_rows_link_target_and_record_and_filter(client, demo_host, operator, admin):
    vm = make_vm(demo_host)
    mine = vm_power(actor=operator, vm=vm, action="start")
    theirs = vm_power(actor=admin, vm=vm, action="reboot")
    Operation.objects.filter(pk=theirs.pk).update(status="failed", error="nope")
    assert client.login(username=operator.username, password=PASSWORD)
    url = reverse("operations:panel")

    body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Start" in body and "vm.start" not in body.replace('data-kind="vm.start"', "")
    assert reverse("compute:vm_detail", args=[vm.pk]) in body
    assert reverse("operations:operation_detail", args=[mine.pk]) in body
    assert f'id="op-{mine.pk}"' in body and 'data-mine="1"' in body

    only_mine = client.get(url, {"mine": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="op-{mine.pk}"' in only_mine and f'id="op-{theirs.pk}"' not in only_mine
    only_failed = client.get(url, {"failed": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="op-{theirs.pk}"' in only_failed and f'id="op-{mine.pk}"' not in only_failed
    neither = client.get(url, {"mine": "1", "failed": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No failed operations of yours among the latest." in neither


def test_operation_record_shows_status_error_and_audit(client, demo_host, admin, outsider):
    vm = make_vm(demo_host)
    op = vm_power(actor=admin, vm=vm, action="start")
    Operation.objects.filter(pk=op.pk).update(host_id=demo_host.pk)
    operation_run(op.pk)
    op.refresh_from_db()
    assert client.login(username=admin.username, password=PASSWORD)
    body = client.get(reverse("operations:operation_detail", args=[op.pk])).content.decode()
    assert op.status in body and "Start" in body and vm.name in body
    assert body.count("Started VM") == 2  # requested and how it ended
    if op.error:
        assert op.error in body

    client.logout()
    assert client.login(username=outsider.username, password=PASSWORD)
    assert client.get(reverse("operations:operation_detail", args=[op.pk])).status_code == 404
    assert client.get(reverse("operations:operation_detail", args=[op.pk + 1000])).status_code == 404
