"""Snapshots: take (internal, or external disk-only), revert, delete (right: vm.snapshot)."""

import re

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, snapshots
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.services import operation_queue

registry.register("vm.snapshot_create", "took a snapshot of VM")
registry.register("vm.snapshot_revert", "reverted VM to a snapshot")
registry.register("vm.snapshot_delete", "deleted a snapshot of VM")

# A snapshot's name becomes part of overlay file names (web.NAME.qcow2): plain characters only.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
NAME_MAX = 64
DESCRIPTION_MAX = 1000


class SnapshotError(ValueError):
    """Input refused before anything was queued; the message is for the form. Nothing changed."""


def validate_name(name):
    if not name or not name.strip():
        raise SnapshotError("Give the snapshot a name.")
    if len(name) > NAME_MAX:
        raise SnapshotError(f"A snapshot name has at most {NAME_MAX} characters.")
    if "/" in name or ".." in name:
        raise SnapshotError("A snapshot name cannot contain '/' or '..': it becomes part of file names.")
    if not NAME_RE.match(name):
        raise SnapshotError(
            "Use letters, digits and . _ + - only (no spaces or quotes), starting with a letter or digit."
        )
    return name


def _queue(actor, vm, kind, params):
    from apps.compute.tasks.state import vm_snapshot_task

    with transaction.atomic():
        return operation_queue(
            actor=actor, kind=kind, target=vm, params=params, task=vm_snapshot_task, queue=vm.host.queue
        )


def vm_snapshot_create(*, actor, vm, name, description="", external=False, existing=None):
    """Queue a snapshot. `existing` (the names the page just read) catches a duplicate name on the
    form; libvirt refuses one that appears in between."""
    authorize(actor, "vm.snapshot", vm)
    validate_name(name)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise SnapshotError(f"A description has at most {DESCRIPTION_MAX} characters.")
    if existing is not None and name in existing:
        raise SnapshotError(f"{vm.name} already has a snapshot named {name}.")
    params = {"op": "create", "name": name, "description": description, "external": bool(external)}
    return _queue(actor, vm, "vm.snapshot_create", params)


def vm_snapshot_revert(*, actor, vm, name):
    authorize(actor, "vm.snapshot", vm)
    validate_name(name)
    return _queue(actor, vm, "vm.snapshot_revert", {"op": "revert", "name": name})


def vm_snapshot_delete(*, actor, vm, name):
    authorize(actor, "vm.snapshot", vm)
    validate_name(name)
    return _queue(actor, vm, "vm.snapshot_delete", {"op": "delete", "name": name})


def vm_snapshot_execute(op):
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    if op.actor is not None:
        authorize(op.actor, "vm.snapshot", vm)
    p, uuid = op.params, str(vm.uuid)
    with connection.connected(vm.host.uri) as conn:
        if p["op"] == "create":
            info = snapshots.create(conn, uuid, name=p["name"], description=p["description"], external=p["external"])
            kind = "external disk-only" if info.external else "internal"
            memory = " with the guest's memory" if info.memory else ""
            message = f"{kind} snapshot {info.name} of {vm.name} taken{memory}"
        elif p["op"] == "revert":
            snapshots.revert(conn, uuid, p["name"])
            message = f"{vm.name} reverted to snapshot {p['name']}"
        else:
            snapshots.delete(conn, uuid, p["name"])
            message = f"snapshot {p['name']} of {vm.name} deleted"
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="snapshots")
    return message
