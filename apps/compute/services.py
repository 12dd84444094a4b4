"""Every change to a VM goes through here: views, commands and tasks call these, nothing else
writes VMs or calls the compute adapters for a change."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.authz import authorize
from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.core import realtime
from apps.core.inventory import mirror_apply, mirror_sync
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import OperationError, operation_queue

from .models import VirtualMachine
from .virt import disks, domains
from .virt.xml import Disk

POWER_ACTIONS = {
    "start": "started",
    "shutdown": "shut down",
    "reboot": "rebooted",
    "destroy": "forced off",
    "suspend": "paused",
    "resume": "resumed",
}
for _action, _label in POWER_ACTIONS.items():
    registry.register(f"vm.{_action}", f"{_label} VM")


def vm_power(*, actor, vm, action):
    """Queue a lifecycle action on a VM. Returns the Operation; the work runs on a worker."""
    from .tasks import vm_power_task

    if action not in POWER_ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    authorize(actor, "vm.power", vm)
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind=f"vm.{action}",
            target=vm,
            params={"action": action},
            task=vm_power_task,
            queue=vm.host.queue,
        )


def vm_power_execute(op):
    """The worker's half: re-check the right (it may have been revoked since), then act."""
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    if op.actor is not None:
        authorize(op.actor, "vm.power", vm)
    elif op.actor_name:
        raise OperationError("The user who asked for this no longer exists.")
    action = op.params["action"]
    with connection.connected(vm.host.uri) as conn:
        domains.power(conn, str(vm.uuid), action)
        vm_inventory_apply(host=vm.host, uuid=str(vm.uuid), info=domains.domain_info(conn, str(vm.uuid)))
    return f"{vm.name} {POWER_ACTIONS[action]}"


# -- inventory: written by the monitor (and after our own actions) ------------------------------

FIELDS = ("name", "state", "vcpus", "memory_kib", "max_memory_kib")


def _publish(vm, change):
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change=change)


registry.register("vm.found", "found a VM defined outside kvmweb")
registry.register("vm.removed_outside", "saw a VM removed outside kvmweb")
registry.register("vm.state_outside", "saw a VM change state outside kvmweb")
# An operation this recent on the VM explains a state change the monitor sees.
OWN_CHANGE_WINDOW = timedelta(seconds=10)


def vm_inventory_apply(*, host, uuid, info, detected=False):
    """Bring one VM's row in line with what libvirt says (info None: the domain is gone).

    With detected=True (the monitor's calls) a change nobody asked kvmweb for — a `virsh start`,
    a define or undefine on the host — also gets a "detected" audit record.
    """
    before = (
        VirtualMachine.objects.filter(host=host, uuid=uuid).values("state", "present").first() if detected else None
    )
    vm = mirror_apply(VirtualMachine, host=host, uuid=uuid, info=info, fields=FIELDS, publish=_publish)
    if detected and vm is not None:
        _record_outside_change(vm, before, info)
    return vm


def _record_outside_change(vm, before, info):
    if info is None:
        if before and before["present"]:
            record("vm.removed_outside", Outcome.DETECTED, target=vm)
        return
    if before is None or not before["present"]:
        record("vm.found", Outcome.DETECTED, target=vm, params={"state": vm.state})
        return
    if before["state"] == vm.state:
        return
    recent = timezone.now() - OWN_CHANGE_WINDOW
    ours = Operation.objects.filter(target_type="vm", target_id=str(vm.pk)).filter(
        Q(status__in=["queued", "running"]) | Q(finished_at__gte=recent)
    )
    if not ours.exists():
        record("vm.state_outside", Outcome.DETECTED, target=vm, params={"from": before["state"], "to": vm.state})


def vm_inventory_sync(*, host, infos, detected=False):
    """Reconcile the host's whole inventory with one bulk listing; touches only what changed."""
    return mirror_sync(
        VirtualMachine,
        host=host,
        infos=infos,
        fields=FIELDS,
        apply=lambda uuid, info: vm_inventory_apply(host=host, uuid=uuid, info=info, detected=detected),
    )


# -- disks ----------------------------------------------------------------------------------------

registry.register("vm.disk_attach", "attached a disk to VM")
registry.register("vm.disk_detach", "detached a disk from VM")


def vm_disk_attach(*, actor, vm, volume, bus="virtio", live=True, config=True):
    """Attach an existing volume (`virsh attach-disk … --live --config`). The user needs vm.edit
    on the VM and storage.view on the volume's pool: a disk from a pool they may not use is refused."""
    from .tasks import vm_disk_task

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
    from .tasks import vm_disk_task

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
