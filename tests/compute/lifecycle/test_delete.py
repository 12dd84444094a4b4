"""Delete a VM against the libvirt test driver through the daemon: with and without its volumes,
with snapshots, running, and refused input. The worker side runs in this process.

The test driver has no UEFI, so NVRAM is exercised in tests/real/test_qemu_clone_delete.py.
"""

import pytest
from django.core.exceptions import PermissionDenied

from apps.accounts.services import grant_add, role_create, user_create
from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import delete as services
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.virt import volumes as volume_virt
from tests.compute.lifecycle.lifecycle_helpers import make_source, test_pool  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def run(op):
    done = operation_run(op.pk)
    done.refresh_from_db()
    return done


def libvirt_volumes(conn, pool):
    return {v.name for v in volume_virt.list_volumes(conn, str(pool.uuid))}


def test_delete_with_its_volumes(demo_host, pool, operator, test_driver):
    vm = make_source(demo_host, pool, test_driver, disks=2)

    op = run(services.vm_delete(actor=operator, vm=vm, confirm=vm.name, volumes=True))

    assert (op.status, op.message) == ("succeeded", f"{vm.name} deleted (2 volume(s) deleted)"), op.error
    assert domains.domain_info(test_driver, str(vm.uuid)) is None
    vm.refresh_from_db()
    assert vm.present is False  # the row stays for its history
    gone = {f"{vm.name}-0.qcow2", f"{vm.name}-1.qcow2"}
    assert not gone & libvirt_volumes(test_driver, pool)
    assert not StorageVolume.objects.filter(pool=pool, name__in=gone).exists()
    assert [v["target"] for v in op.params["volumes"]] == ["vda", "vdb"]  # never the CD-ROM
    actions = AuditEvent.objects.filter(target_type="vm", target_id=str(vm.pk)).values_list("action", "outcome")
    assert ("vm.delete", "requested") in actions and ("vm.delete", "succeeded") in actions
    assert not [a for a in actions if a[0] == "vm.removed_outside"]


def test_delete_keeping_its_volumes(demo_host, pool, operator, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    op = run(services.vm_delete(actor=operator, vm=vm, confirm=vm.name, volumes=False))
    assert op.status == "succeeded", op.error
    assert domains.domain_info(test_driver, str(vm.uuid)) is None
    assert f"{vm.name}-0.qcow2" in libvirt_volumes(test_driver, pool)


@pytest.mark.parametrize("typed", ["", "wrong", " NAME ", "NAME-upper"])
def test_a_confirmation_that_does_not_match_changes_nothing(demo_host, pool, operator, test_driver, typed):
    vm = make_source(demo_host, pool, test_driver)
    typed = typed.replace("NAME-upper", vm.name.upper()).replace("NAME", vm.name)
    with pytest.raises(services.DeleteError, match="Type the VM's name"):
        services.vm_delete(actor=operator, vm=vm, confirm=typed, volumes=True)
    assert not Operation.objects.filter(kind="vm.delete").exists()
    assert domains.domain_info(test_driver, str(vm.uuid)) is not None


def test_a_running_vm_is_forced_off_first(demo_host, pool, operator, test_driver):
    vm = make_source(demo_host, pool, test_driver, start=True)
    op = run(services.vm_delete(actor=operator, vm=vm, confirm=vm.name))
    assert op.status == "succeeded", op.error
    assert "forced off" in op.message
    assert domains.domain_info(test_driver, str(vm.uuid)) is None


def test_snapshots_metadata_must_go_with_the_vm(demo_host, pool, operator, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    dom = test_driver.lookupByUUIDString(str(vm.uuid))
    dom.snapshotCreateXML("<domainsnapshot><name>before-upgrade</name></domainsnapshot>", 0)
    with pytest.raises(services.DeleteError, match="1 snapshot"):
        services.vm_delete(actor=operator, vm=vm, confirm=vm.name, snapshots=False)
    op = run(services.vm_delete(actor=operator, vm=vm, confirm=vm.name, snapshots=True))
    assert op.status == "succeeded", op.error
    assert domains.domain_info(test_driver, str(vm.uuid)) is None


def test_libvirts_refusal_ends_the_operation_failed(demo_host, pool, operator, test_driver):
    """A snapshot taken after the request: libvirt refuses the undefine, in its own words."""
    vm = make_source(demo_host, pool, test_driver)
    op = services.vm_delete(actor=operator, vm=vm, confirm=vm.name, volumes=True, snapshots=False)
    test_driver.lookupByUUIDString(str(vm.uuid)).snapshotCreateXML("<domainsnapshot><name>s</name></domainsnapshot>")
    op = run(op)
    assert op.status == "failed" and "snapshot" in op.error
    assert domains.domain_info(test_driver, str(vm.uuid)) is not None
    assert f"{vm.name}-0.qcow2" in libvirt_volumes(test_driver, pool)  # nothing deleted
    test_driver.lookupByUUIDString(str(vm.uuid)).snapshotLookupByName("s").delete()


@pytest.fixture
def vm_deleter(db):
    """May delete VMs but manage no pool."""
    role_create(actor=None, name="Deleter", permissions=["vm.view", "vm.delete", "storage.view"])
    user, _ = user_create(actor=None, username="dora-deleter", password=PASSWORD)
    grant_add(actor=None, user=user, role="Deleter")
    return user


def test_deleting_volumes_needs_storage_manage_on_their_pool(demo_host, pool, vm_deleter, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    with pytest.raises(PermissionDenied):
        services.vm_delete(actor=vm_deleter, vm=vm, confirm=vm.name, volumes=True)
    assert not Operation.objects.filter(kind="vm.delete").exists()
    denied = AuditEvent.objects.get(actor=vm_deleter, action="auth.denied")
    assert denied.params["permission"] == "storage.manage"
    # Without the volumes the VM alone may go.
    op = run(services.vm_delete(actor=vm_deleter, vm=vm, confirm=vm.name, volumes=False))
    assert op.status == "succeeded", op.error
    assert f"{vm.name}-0.qcow2" in libvirt_volumes(test_driver, pool)


def test_vm_delete_needs_its_own_right(demo_host, pool, viewer, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    with pytest.raises(PermissionDenied):
        services.vm_delete(actor=viewer, vm=vm, confirm=vm.name)


def test_the_worker_checks_the_right_again(demo_host, pool, vm_deleter, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    op = services.vm_delete(actor=vm_deleter, vm=vm, confirm=vm.name)
    vm_deleter.grants.all().delete()
    op = run(op)
    assert op.status == "failed"
    assert domains.domain_info(test_driver, str(vm.uuid)) is not None


def test_the_plan_lists_what_goes_and_what_stays(demo_host, pool, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    plan = services.delete_plan(test_driver, vm)
    assert [(s.target, v.name) for s, v in plan.deletable] == [("vda", f"{vm.name}-0.qcow2")]
    assert [s.target for s in plan.shared] == ["sda"]
    assert plan.unmanaged == [] and plan.snapshots == [] and plan.nvram == ""


def test_the_inventory_row_keeps_its_history(demo_host, pool, operator, test_driver):
    vm = make_source(demo_host, pool, test_driver)
    run(services.vm_delete(actor=operator, vm=vm, confirm=vm.name))
    # The monitor's next look finds the domain gone: our operation explains it, no "removed outside".
    vm_inventory_apply(host=demo_host, uuid=str(vm.uuid), info=None, detected=True)
    assert VirtualMachine.objects.filter(pk=vm.pk, present=False).exists()
    assert not AuditEvent.objects.filter(action="vm.removed_outside", target_id=str(vm.pk)).exists()
