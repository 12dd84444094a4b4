"""Delete a VM (`virsh undefine`), with what the user chooses to remove along with it: its
writable volumes (through their pools), its snapshots' metadata, its UEFI variable store.

A running VM is forced off first. Shared read-only disks and CD-ROM ISOs are never deleted. The
VM's inventory row stays with present=False, like a VM removed outside, so its operations and
audit history still point somewhere; the audit log has "vm.delete" requested and its outcome.
"""

from dataclasses import dataclass, field

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.virt import lifecycle
from apps.hosts.virt import connection
from apps.operations.services import operation_queue
from apps.storage.models import StorageVolume

from .clone import volume_for

registry.register("vm.delete", "deleted VM")


class DeleteError(ValueError):
    """Input the delete cannot go ahead with; the message is for the form. Nothing was changed."""


@dataclass
class DeletePlan:
    """What the confirm page lists and the service acts on, read from libvirt in one go."""

    deletable: list[tuple[lifecycle.DiskSpec, StorageVolume]] = field(default_factory=list)
    unmanaged: list[lifecycle.DiskSpec] = field(default_factory=list)  # writable, in no known pool: kept
    shared: list[lifecycle.DiskSpec] = field(default_factory=list)  # read-only, shareable, CD-ROMs: kept
    snapshots: list[lifecycle.SnapshotInfo] = field(default_factory=list)
    nvram: str = ""

    @property
    def external_files(self):
        return [f for s in self.snapshots for f in s.external_files]


def delete_plan(conn, vm) -> DeletePlan:
    xml = lifecycle.inactive_xml(conn, str(vm.uuid))
    plan = DeletePlan(snapshots=lifecycle.snapshots(conn, str(vm.uuid)), nvram=lifecycle.nvram_path(xml))
    for spec in lifecycle.parse_disks(xml):
        if not spec.writable:
            plan.shared.append(spec)
        elif (volume := volume_for(vm.host, spec)) is not None:
            plan.deletable.append((spec, volume))
        else:
            plan.unmanaged.append(spec)
    return plan


def vm_delete(*, actor, vm, confirm, volumes=False, snapshots=False, nvram=False):
    """Queue the deletion. `confirm` must be the VM's name, typed. With volumes=True every
    writable disk in a known pool is deleted, which needs storage.manage on each of those pools."""
    authorize(actor, "vm.delete", vm)
    if not vm.present:
        raise DeleteError(f"{vm.name} is already gone from {vm.host.name}.")
    if (confirm or "") != vm.name:
        raise DeleteError(f"Type the VM's name, {vm.name}, exactly to confirm.")
    with connection.connected(vm.host.uri) as conn:
        plan = delete_plan(conn, vm)
    if plan.snapshots and not snapshots:
        raise DeleteError(
            f"{vm.name} has {len(plan.snapshots)} snapshot(s): libvirt deletes a VM only together with its "
            "snapshots' metadata. Tick 'delete snapshots' metadata' or delete the snapshots first."
        )
    doomed = []
    if volumes:
        for spec, volume in plan.deletable:
            authorize(actor, "storage.manage", volume.pool)
            doomed.append({"target": spec.target, "pool_id": volume.pool_id, "name": volume.name, "path": volume.path})
    params = {
        "name": vm.name,
        "volumes": doomed,
        "snapshots": bool(snapshots),
        "nvram": bool(nvram),
        "was": vm.state,
    }
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind="vm.delete", target=vm, params=params)


