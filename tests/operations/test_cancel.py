"""Cancel and progress, as the services see them: a queued operation of any kind stops at once and
its worker then leaves it alone; the request and the outcome are audited; inputs waiting for the
worker are dropped; progress never goes backwards and can be "unknown". The running cases, with a
real worker and real QEMU, are in test_cancel_real.py."""

import pytest

from apps.audit.models import AuditEvent
from apps.compute.services.create import vm_define_xml
from apps.compute.services.power import vm_power
from apps.core.errors import OperationCancelled
from apps.operations import runners
from apps.operations.models import Operation
from apps.operations.services import (
    CANCELLED_OUTCOME,
    operation_cancel,
    operation_cancel_requested,
    operation_check_cancel,
    operation_progress,
    operation_run,
)
from tests.helpers import make_vm, unique

pytestmark = pytest.mark.django_db

# The kinds whose runner honours a cancel while it runs; every other kind stops only while queued.
CANCELLABLE = {
    "volume.upload",
    "volume.download",
    "volume.create",
    "volume.clone",
    "vm.clone",
    "vm.create",
    "vm.disk_new",
}


@pytest.fixture
def vm(demo_host):
    demo_host.state = "up"
    demo_host.save()
    return make_vm(demo_host)


def test_only_runners_that_honour_a_cancel_say_so():
    assert {kind for kind in runners.kinds() if runners.get(kind).cancellable} == CANCELLABLE


def test_a_queued_operation_is_cancelled_at_once_and_its_worker_leaves_it(vm, operator, admin):
    op = vm_power(actor=operator, vm=vm, action="start")
    assert runners.get(op.kind).cancellable is False  # a start cannot stop midway, but has not begun

    op = operation_cancel(actor=admin, op=op)

    assert (op.status, op.error) == ("cancelled", f"Cancelled by {admin.username} before it started.")
    assert operation_run(op.pk).status == "cancelled"  # the task, when it comes, finds nothing to do
    assert Operation.objects.get(pk=op.pk).started_at is None
    rows = AuditEvent.objects.filter(operation_id=op.pk).order_by("id")
    assert [(e.action, e.outcome, e.actor_name) for e in rows] == [
        ("vm.start", "requested", operator.username),
        ("operation.cancel", "requested", admin.username),  # who asked to stop it
        ("vm.start", CANCELLED_OUTCOME, operator.username),
    ]
    assert rows.last().error == f"Cancelled by {admin.username} before it started."
    assert rows[1].target_type == "vm" and rows[1].target_name == vm.name  # on the VM's history too


def test_a_finished_operation_is_left_as_it_ended(vm, operator, admin):
    op = vm_power(actor=operator, vm=vm, action="start")
    operation_cancel(actor=admin, op=op)
    again = operation_cancel(actor=admin, op=op)
    assert again.status == "cancelled"
    assert AuditEvent.objects.filter(operation_id=op.pk, action="operation.cancel").count() == 1


def test_a_cancelled_queued_define_drops_the_password_it_was_keeping_for_the_worker(demo_host, operator, admin):
    name = unique("xml")
    xml = (
        f'<domain type="test"><name>{name}</name><memory unit="MiB">128</memory><vcpu>1</vcpu>'
        '<os><type arch="x86_64">hvm</type></os><devices><graphics type="vnc" passwd="s3cr3t-vnc"/></devices></domain>'
    )
    op = vm_define_xml(actor=operator, host=demo_host, xml=xml, name=name, vcpus=1, memory_mib=128)
    assert "s3cr3t-vnc" in Operation.objects.get(pk=op.pk).params["xml"]
    operation_cancel(actor=operator, op=op)
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)


def test_a_running_operation_gets_a_request_its_runner_answers(vm, operator, admin):
    op = vm_power(actor=operator, vm=vm, action="start")
    Operation.objects.filter(pk=op.pk).update(status="running")
    op.refresh_from_db()
    operation_check_cancel(op)  # nothing asked yet: goes on

    assert operation_cancel(actor=admin, op=op).status == "running"  # asked, not forced

    assert operation_cancel_requested(op) == admin.username
    assert Operation.objects.get(pk=op.pk).message == f"Cancel asked by {admin.username}; stopping."
    with pytest.raises(OperationCancelled, match=f"Cancelled by {admin.username} before copying vda."):
        operation_check_cancel(op, " before copying vda")


def test_progress_never_moves_backwards_and_can_be_unknown(vm, operator):
    op = vm_power(actor=operator, vm=vm, action="start")
    Operation.objects.filter(pk=op.pk).update(status="running")
    op.refresh_from_db()

    operation_progress(op, 40, "copying vda")
    operation_progress(Operation.objects.get(pk=op.pk), 30, "copying vdb")  # a late report from a watcher
    row = Operation.objects.get(pk=op.pk)
    assert (row.progress, row.message) == (40, "copying vdb")
    operation_progress(op, None, "defining the domain")  # no figure: the bar stays, the words change
    row = Operation.objects.get(pk=op.pk)
    assert (row.progress, row.message) == (40, "defining the domain")
    operation_progress(op, 250)
    assert Operation.objects.get(pk=op.pk).progress == 99  # 100 is for "succeeded"


def test_a_driver_that_cannot_grow_a_volume_still_gets_it_preallocated_in_one_call(demo_host, operator):
    """Preallocation goes in slices (each a resize that allocates) to report and stop between
    them; the test driver has no resize, so there it is one createXML, as before."""
    from apps.hosts.virt import connection
    from apps.storage.services import volumes as volume_services
    from apps.storage.services.pools import pool_refresh_inventory
    from apps.storage.virt import volumes as volume_virt
    from tests.helpers import TEST_URI

    pool_uuid = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"  # the test driver's default-pool
    conn = connection.get(TEST_URI)
    pool = pool_refresh_inventory(conn, demo_host, pool_uuid)
    name = unique("prealloc") + ".img"
    op = volume_services.volume_create(
        actor=operator, pool=pool, name=name, capacity=200, unit="MiB", format="raw", preallocate=True
    )
    try:
        op = operation_run(op.pk)
        assert op.status == "succeeded", op.error
        info = volume_virt.volume_info(conn, pool_uuid, name)
        assert (info.capacity, info.allocation) == (200 << 20, 200 << 20)
    finally:
        volume_virt.delete_quietly(conn, pool_uuid, name)


@pytest.mark.django_db(transaction=True)
def test_a_watch_reports_a_blocking_calls_progress_and_acknowledges_a_cancel(demo_host, operator, admin):
    """While a libvirt call that has no progress and no abort blocks the runner (a copy), the
    watch reads its figure in a thread of its own and says at once that a cancel was asked."""
    from apps.operations.services import operation_watch
    from tests.helpers import wait_for

    op = vm_power(actor=operator, vm=make_vm(demo_host), action="start")
    Operation.objects.filter(pk=op.pk).update(status="running", progress=0)
    op.refresh_from_db()
    reads = iter([None, 0.25, 0.75, 1.0])

    with operation_watch(op, lambda: next(reads, 1.0), span=(10, 90), label="copying vda", interval=0.2):
        wait_for(lambda: Operation.objects.get(pk=op.pk).progress == 90, timeout=10, message="the copy's end")
        operation_cancel(actor=admin, op=op)
        wait_for(
            lambda: "libvirt cannot stop this step midway" in Operation.objects.get(pk=op.pk).message,
            timeout=10,
            message="the cancel acknowledged",
        )
    row = Operation.objects.get(pk=op.pk)
    assert row.message.startswith(f"Cancel asked by {admin.username}: ")
    assert row.progress == 90  # 10 + 80 × 1.0
