"""The inventory: VM rows the monitor (and our own actions) keep in line with libvirt."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.compute.models import VirtualMachine
from apps.core import realtime
from apps.core.inventory import mirror_apply, mirror_sync
from apps.operations.models import Operation

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


# Operations that bring a new domain into being name it in params["name"]: the monitor's
# "found" for that name on that host is their doing, not an outside define.
CREATING_KINDS = ("vm.create", "vm.define", "vm.clone")


def _explained(vm):
    """Is a kvmweb operation on this VM (running, or finished in the last few seconds) the cause
    of what the monitor sees?"""
    recent = timezone.now() - OWN_CHANGE_WINDOW
    ours = Q(target_type="vm", target_id=str(vm.pk)) | Q(
        host_id=vm.host_id, kind__in=CREATING_KINDS, params__name=vm.name
    )
    return (
        Operation.objects.filter(ours).filter(Q(status__in=["queued", "running"]) | Q(finished_at__gte=recent)).exists()
    )


def _record_outside_change(vm, before, info):
    if info is None:
        if before and before["present"] and not _explained(vm):
            record("vm.removed_outside", Outcome.DETECTED, target=vm)
        return
    if before is None or not before["present"]:
        if not _explained(vm):
            record("vm.found", Outcome.DETECTED, target=vm, params={"state": vm.state})
        return
    if before["state"] != vm.state and not _explained(vm):
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
