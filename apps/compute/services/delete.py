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
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains, lifecycle
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from apps.operations.services import OperationError, operation_progress, operation_queue
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import volumes as volume_virt

from .clone import volume_for
from .inventory import vm_inventory_apply

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
    from apps.compute.tasks.lifecycle import vm_delete_task

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
            actor=actor, kind="vm.delete", target=vm, params=params, task=vm_delete_task, queue=vm.host.queue
        )


def vm_delete_execute(op):
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    p = op.params
    pools = {pool.pk: pool for pool in StoragePool.objects.filter(pk__in={v["pool_id"] for v in p["volumes"]})}
    if op.actor is not None:
        authorize(op.actor, "vm.delete", vm)
        for pool in pools.values():
            authorize(op.actor, "storage.manage", pool)
    elif op.actor_name:
        raise OperationError("The user who asked for this no longer exists.")
    uuid = str(vm.uuid)
    notes, failed = [], []
    with connection.connected(vm.host.uri) as conn:
        if domains.domain_info(conn, uuid) is None:
            raise OperationError(f"{vm.name} no longer exists on {vm.host.name}.")
        if lifecycle.force_off(conn, uuid):
            notes.append("forced off")
        operation_progress(op, 30, f"undefining {vm.name}")
        lifecycle.undefine(conn, uuid, snapshots_metadata=p["snapshots"], nvram=p["nvram"])
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
        for i, v in enumerate(p["volumes"]):
            operation_progress(op, 40 + 50 * i / len(p["volumes"]), f"deleting {v['path']}")
            try:
                volume_virt.delete(conn, str(pools[v["pool_id"]].uuid), v["name"])
            except VirtError as exc:
                failed.append(f"{v['path']}: {exc}")
        for pool in pools.values():
            refresh_quietly(conn, pool)
    if p["volumes"]:
        notes.append(f"{len(p['volumes']) - len(failed)} volume(s) deleted")
    if failed:
        # The VM itself is gone; say plainly which of its volumes are still there and why.
        raise OperationError(f"{vm.name} deleted, but not every volume: {'; '.join(failed)}")
    return f"{vm.name} deleted" + (f" ({', '.join(notes)})" if notes else "")
