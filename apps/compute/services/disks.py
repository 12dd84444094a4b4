"""Disks: attach an existing volume, detach (`virsh attach-disk` / `detach-disk`)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.accounts.authz import authorize
from apps.audit import registry
from apps.compute.models import VirtualMachine
from apps.compute.virt import disks
from apps.compute.virt.xml import Disk
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.services import operation_queue

registry.register("vm.disk_attach", "attached a disk to VM")
registry.register("vm.disk_detach", "detached a disk from VM")


def vm_disk_attach(*, actor, vm, volume, bus="virtio", live=True, config=True):
    """Attach an existing volume (`virsh attach-disk … --live --config`). The user needs vm.edit
    on the VM and storage.view on the volume's pool: a disk from a pool they may not use is refused."""
    from apps.compute.tasks.core import vm_disk_task

    if not (live or config):
        raise ValueError("choose live, config or both")
    authorize(actor, "vm.edit", vm)
    authorize(actor, "storage.view", volume.pool)
    if volume.pool.host_id != vm.host_id:
        raise PermissionDenied("The volume is on another host.")
    params = {
        "op": "attach",
        "path": volume.path,
        "format": volume.format or "raw",
        "bus": bus,
        "live": live,
        "config": config,
        "volume": f"{volume.pool.name}/{volume.name}",
    }
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind="vm.disk_attach", target=vm, params=params, task=vm_disk_task, queue=vm.host.queue
        )


def vm_disk_detach(*, actor, vm, target, live=True, config=True):
    from apps.compute.tasks.core import vm_disk_task

    if not (live or config):
        raise ValueError("choose live, config or both")
    authorize(actor, "vm.edit", vm)
    params = {"op": "detach", "target": target, "live": live, "config": config}
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind="vm.disk_detach", target=vm, params=params, task=vm_disk_task, queue=vm.host.queue
        )


def vm_disk_execute(op):
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    if op.actor is not None:
        authorize(op.actor, "vm.edit", vm)
    p = op.params
    with connection.connected(vm.host.uri) as conn:
        if p["op"] == "attach":
            existing = {d.target for d in disks.list_disks(conn, str(vm.uuid))}
            existing |= {d.target for d in disks.list_disks(conn, str(vm.uuid), inactive=True)}
            target = disks.next_target(existing, p["bus"])
            disk = Disk(source=p["path"], target=target, bus=p["bus"], format=p["format"])
            disks.attach(conn, str(vm.uuid), disk, live=p["live"], config=p["config"])
            message = f"{p['volume']} attached to {vm.name} as {target}"
        else:
            disks.detach(conn, str(vm.uuid), p["target"], live=p["live"], config=p["config"])
            message = f"{p['target']} detached from {vm.name}"
            if p["live"] and p["target"] in {d.target for d in disks.list_disks(conn, str(vm.uuid))}:
                # QEMU unplugs a disk only when the guest lets it go (ACPI hot-unplug).
                message += "; the running guest has not released it yet, it goes when the guest does"
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="devices")
    return message
