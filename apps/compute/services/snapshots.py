"""Snapshots: take (internal, or external disk-only), revert, delete (right: vm.snapshot)."""

import re

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
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
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind=kind, target=vm, params=params)


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


