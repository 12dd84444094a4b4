"""Snapshots on a tiny real QEMU domain: internal with memory and revert, external disk-only with
its overlay, and libvirt's own refusals (revert to, or delete, an external one)."""

import os
import subprocess

import pytest

from apps.compute.services import snapshots as services
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, snapshots
from apps.hosts.services import host_create
from apps.operations.services import operation_run
from tests.helpers import QEMU_URI

pytestmark = [pytest.mark.qemu, pytest.mark.django_db]


@pytest.fixture
def vm(db, qemu_conn, tiny_domain, django_capture_on_commit_callbacks):
    """The tiny domain, running, with its inventory row; the worker half runs in the test."""
    _name, dom_uuid = tiny_domain
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    with django_capture_on_commit_callbacks(execute=False):
        yield vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(qemu_conn, dom_uuid))


def _run(op):
    return operation_run(op.pk, services.vm_snapshot_execute)


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


def test_internal_snapshot_with_memory_and_revert(vm, operator, qemu_conn):
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="booted", description="just started"))
    assert op.status == "succeeded", op.error
    assert op.message.endswith("taken with the guest's memory")
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="later"))
    assert op.status == "succeeded", op.error
    domains.power(qemu_conn, str(vm.uuid), "destroy")

    op = _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="booted"))
    assert op.status == "succeeded", op.error
    assert _virsh("domstate", vm.name).strip() == "running"  # the memory brought it back running
    assert _virsh("snapshot-current", "--name", vm.name).strip() == "booted"
    tree = snapshots.list_snapshots(qemu_conn, str(vm.uuid))
    assert [(s.name, s.parent, s.memory, s.state, s.current) for s in tree] == [
        ("booted", "", True, "running", True),
        ("later", "booted", True, "running", False),
    ]
    vm.refresh_from_db()
    assert vm.state == "running"

    op = _run(services.vm_snapshot_delete(actor=operator, vm=vm, name="later"))
    assert op.status == "succeeded", op.error
    assert _virsh("snapshot-list", "--name", vm.name).split() == ["booted"]


def test_external_disk_only_snapshot_and_libvirts_refusals(vm, operator, qemu_conn, tiny_domain):
    image = f"/var/lib/libvirt/images/{vm.name}.qcow2"
    overlay = f"/var/lib/libvirt/images/{vm.name}.ext1.qcow2"
    try:
        op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="ext1", external=True))
        assert op.status == "succeeded", op.error
        assert op.message.startswith("external disk-only snapshot ext1")
        assert os.path.exists(overlay)  # beside the disk, and the domain now writes there
        blk = _virsh("domblklist", vm.name)
        assert overlay in blk and image not in blk
        info = subprocess.run(["qemu-img", "info", "-U", overlay], capture_output=True, text=True).stdout
        assert "file format: qcow2" in info and image in info  # backed by the old image
        [snap] = snapshots.list_snapshots(qemu_conn, str(vm.uuid))
        assert (snap.external, snap.memory, snap.current) == (True, False, True)

        # A second one with the same name: its overlay exists, and libvirt says so.
        op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="ext1", external=True))
        assert op.status == "failed" and "ext1" in op.error

        # Reverting to an external snapshot: libvirt 9 refuses, in its words; the VM runs on.
        op = _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="ext1"))
        if op.status == "failed":
            assert "external" in op.error
            assert _virsh("domstate", vm.name).strip() == "running"
        # Deleting it: newer libvirt merges the overlay back; where it cannot, it says why.
        op = _run(services.vm_snapshot_delete(actor=operator, vm=vm, name="ext1"))
        assert op.status == "succeeded" or op.error, "a refusal carries libvirt's message"
    finally:
        domains.power(qemu_conn, str(vm.uuid), "destroy")
        subprocess.run(["rm", "-f", overlay], check=False)
