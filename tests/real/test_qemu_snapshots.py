"""Snapshots on a tiny real QEMU domain through the real worker: internal with memory and revert,
external disk-only with its overlay, and libvirt's own refusals (revert to an external one, a
second one whose overlay is already there), and deleting an external one, which merges it back."""

import os
import subprocess

import pytest

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import snapshots as services
from apps.compute.virt import domains, snapshots
from apps.hosts.services import host_create
from tests.helpers import QEMU_URI, finished, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vm(stack, qemu_conn, tiny_domain):
    """The tiny domain, running, as the monitor's inventory has it."""
    name, dom_uuid = tiny_domain
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    return wait_for(
        lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the running domain",
    )


def _run(op, status="succeeded"):
    op = finished(op)
    assert op.status == status, op.error or op.message
    return op


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


def test_internal_snapshot_with_memory_and_revert(vm, operator, qemu_conn):
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="booted", description="just started"))
    assert op.message.endswith("taken with the guest's memory")
    _run(services.vm_snapshot_create(actor=operator, vm=vm, name="later"))
    domains.power(qemu_conn, str(vm.uuid), "destroy")
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "shutoff", message="the inventory to see it off")

    _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="booted"))
    assert _virsh("domstate", vm.name).strip() == "running"  # the memory brought it back running
    assert _virsh("snapshot-current", "--name", vm.name).strip() == "booted"
    tree = snapshots.list_snapshots(qemu_conn, str(vm.uuid))
    assert [(s.name, s.parent, s.memory, s.state, s.current) for s in tree] == [
        ("booted", "", True, "running", True),
        ("later", "booted", True, "running", False),
    ]
    assert VirtualMachine.objects.get(pk=vm.pk).state == "running"  # the worker wrote what it did

    _run(services.vm_snapshot_delete(actor=operator, vm=vm, name="later"))
    assert _virsh("snapshot-list", "--name", vm.name).split() == ["booted"]
    outcomes = AuditEvent.objects.filter(target_id=str(vm.pk), action__startswith="vm.snapshot")
    assert list(outcomes.order_by("id").values_list("action", "outcome")) == [
        ("vm.snapshot_create", "requested"),
        ("vm.snapshot_create", "succeeded"),
        ("vm.snapshot_create", "requested"),
        ("vm.snapshot_create", "succeeded"),
        ("vm.snapshot_revert", "requested"),
        ("vm.snapshot_revert", "succeeded"),
        ("vm.snapshot_delete", "requested"),
        ("vm.snapshot_delete", "succeeded"),
    ]


def test_external_disk_only_snapshot_and_libvirts_refusals(vm, operator, qemu_conn):
    image = f"/var/lib/libvirt/images/{vm.name}.qcow2"
    overlay = f"/var/lib/libvirt/images/{vm.name}.ext1.qcow2"
    try:
        op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="ext1", external=True))
        assert op.message.startswith("external disk-only snapshot ext1")
        assert os.path.exists(overlay)  # beside the disk, and the domain now writes there
        blk = _virsh("domblklist", vm.name)
        assert overlay in blk and image not in blk
        info = subprocess.run(["qemu-img", "info", "-U", overlay], capture_output=True, text=True).stdout
        assert "file format: qcow2" in info and image in info  # backed by the old image
        [snap] = snapshots.list_snapshots(qemu_conn, str(vm.uuid))
        assert (snap.external, snap.memory, snap.current) == (True, False, True)

        # A second one with the same name: its overlay exists, and libvirt says so.
        op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="ext1", external=True), "failed")
        assert "ext1" in op.error

        # Reverting to an external snapshot: libvirt 9.0 (this machine's; 9.7 learnt it) refuses in
        # its own words, and the VM runs on, on its overlay.
        op = _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="ext1"), "failed")
        assert "revert to external snapshot not supported" in op.error
        assert _virsh("domstate", vm.name).strip() == "running"
        assert overlay in _virsh("domblklist", vm.name)

        # Deleting it merges the overlay back into the image (a block commit) and removes it.
        _run(services.vm_snapshot_delete(actor=operator, vm=vm, name="ext1"))
        assert snapshots.list_snapshots(qemu_conn, str(vm.uuid)) == []
        blk = _virsh("domblklist", vm.name)
        assert image in blk and overlay not in blk
        assert not os.path.exists(overlay)
    finally:
        domains.power(qemu_conn, str(vm.uuid), "destroy")
        subprocess.run(["rm", "-f", overlay], check=False)
