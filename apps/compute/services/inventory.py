"""The inventory: VM rows the monitor (and our own actions) keep in line with libvirt."""

from contextlib import nullcontext
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.compute.models import VirtualMachine
from apps.compute.virt.domains import DomainInfo
from apps.core import realtime
from apps.core.inventory import mirror_apply, mirror_sync
from apps.network.services.inventory import ports_sync, publish_vm_wiring
from apps.operations.models import Operation

# What the monitor's bulk call per tick carries, and what only a define, `virsh autostart` or
# `virsh desc` changes (read on connect, on events and after our own operations).
RUNTIME_FIELDS = ("name", "state", "state_reason", "vcpus", "memory_kib", "max_memory_kib")
CONFIG_FIELDS = ("autostart", "persistent", "title", "description", "os_variant", "max_vcpus")
FIELDS = RUNTIME_FIELDS + CONFIG_FIELDS


def _fields(infos):
    """The fields these infos carry: configuration fields are None where they were not read."""
    return RUNTIME_FIELDS + tuple(f for f in CONFIG_FIELDS if all(getattr(i, f) is not None for i in infos))


def _publish(vm, change):
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change=change)
    publish_vm_wiring(vm)


registry.register("vm.found", "found a VM defined outside kvmweb")
registry.register("vm.removed_outside", "saw a VM removed outside kvmweb")
registry.register("vm.state_outside", "saw a VM change state outside kvmweb")
# An operation this recent on the VM explains a state change the monitor sees.
OWN_CHANGE_WINDOW = timedelta(seconds=10)


@transaction.atomic
def vm_inventory_apply(*, host, uuid, info, detected=False, full_info=None, started=None):
    """Bring one VM's row in line with what libvirt says (info None: the domain is gone).

    With detected=True (the monitor's calls) a change nobody asked kvmweb for — a `virsh start`,
    a define or undefine on the host — also gets a "detected" audit record.
    `full_info(uuid)` gives the whole DomainInfo when a row appears from a listing that carries
    no configuration. The monitor passes `started(name)`, which tells when a domain's process
    started where the host can say (the local host), for a running domain it finds; callers
    without it are our own operations, whose new rows are in a state that begins now.
    """
    before = VirtualMachine.objects.filter(host=host, uuid=uuid).values("state", "present").first()
    appearing = before is None or not before["present"]
    if info is not None and appearing and full_info is not None and not info.has_config:
        info = full_info(uuid) or info
    fields = _fields([info]) if info is not None else FIELDS
    vm = mirror_apply(VirtualMachine, host=host, uuid=uuid, info=info, fields=fields, publish=_publish)
    if vm is not None and (info is None or info.nics is not None):
        ports_sync(host=host, nics_by_vm={vm.pk: info.nics if info is not None else ()})
    if vm is not None and info is not None:
        _track_since(vm, before, started=started)
    if detected and vm is not None:
        _record_outside_change(vm, before, info)
    return vm


def _track_since(vm, before, *, started):
    """state_since: when the VM got into its state. Seen changing (by the monitor or by our own
    operation): now. A row our own operation brings (no `started`, e.g. after a define): now too.
    Found by the monitor already in its state: unknown, unless the process start time tells
    (only for a running VM that did not come out of a pause)."""
    if before is not None and before["present"]:
        if before["state"] == vm.state:
            return
        since = timezone.now()
    elif started is None:
        since = timezone.now()
    else:
        since = started(vm.name) if _process_start_counts(vm) else None
    if since != vm.state_since:
        vm.state_since = since
        VirtualMachine.objects.filter(pk=vm.pk).update(state_since=since)


def _process_start_counts(vm):
    return vm.state == "running" and vm.state_reason != "unpaused"


def vm_inventory_fill_since(*, host, started):
    """On connect: running VMs whose start is unknown (found before, or before this field) take
    their QEMU process's start time where the host can tell it."""
    rows = VirtualMachine.objects.filter(host=host, present=True, state="running", state_since__isnull=True)
    for vm in rows.exclude(state_reason="unpaused"):
        since = started(vm.name)
        if since is not None:
            VirtualMachine.objects.filter(pk=vm.pk, state_since__isnull=True).update(state_since=since)
            _publish(vm, "updated")


def vm_inventory_stopped(*, host, uuid, reason, detected=True):
    """A stop libvirt announced for a domain that was gone before we could read it: the row
    still moves to shut off (with the event's reason) before it is marked removed."""
    row = VirtualMachine.objects.filter(host=host, uuid=uuid, present=True).exclude(state="shutoff").first()
    if row is None:
        return None
    info = DomainInfo(uuid, row.name, "shutoff", row.vcpus, row.memory_kib, row.max_memory_kib, state_reason=reason)
    return vm_inventory_apply(host=host, uuid=uuid, info=info, detected=detected)


def vm_inventory_autostart(*, host, uuids):
    """Autostart as one bulk listing says it (`virsh autostart` sends no event): touch only the
    rows that differ."""
    for vm in VirtualMachine.objects.filter(host=host, present=True).only("pk", "uuid", "autostart", "host_id"):
        wanted = str(vm.uuid) in uuids
        if vm.autostart != wanted:
            VirtualMachine.objects.filter(pk=vm.pk).update(autostart=wanted, updated_at=timezone.now())
            _publish(vm, "updated")


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


def _together(_label):
    return nullcontext()


def vm_inventory_sync(*, host, infos, detected=False, full_info=None, started=None, isolate=_together):
    """Reconcile the host's whole inventory with one bulk listing; touches only what changed.
    Configuration fields are compared only when the listing carries them (on connect).
    `isolate(label)` wraps each VM's write: the monitor passes one that keeps a VM's failure from
    stopping the others."""

    def apply(uuid, info):
        with isolate(f"VM {info.name if info is not None else uuid}"):
            return vm_inventory_apply(
                host=host, uuid=uuid, info=info, detected=detected, full_info=full_info, started=started
            )
        return None

    rows = mirror_sync(VirtualMachine, host=host, infos=infos, fields=_fields(infos), apply=apply)
    # A listing with the configuration (on connect) carries every VM's NICs: their ports are
    # reconciled in one pass, also for VMs whose other fields did not change.
    nics = {
        row.pk: info.nics for row, info in zip(rows, infos, strict=True) if row is not None and info.nics is not None
    }
    if nics:
        with isolate("ports"):
            ports_sync(host=host, nics_by_vm=nics)
    return rows
