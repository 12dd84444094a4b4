"""vm.delete on the worker (services/delete.py queues it): force off, undefine with what the
user chose (snapshot metadata, NVRAM), then the chosen volumes through their pools."""

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, lifecycle
from apps.core.errors import OperationError, VirtError
from apps.hosts.virt import connection
from apps.operations.runners import require, runner
from apps.operations.services import operation_progress
from apps.storage.models import StoragePool
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import volumes as volume_virt


def _pools(op):
    ids = {v["pool_id"] for v in op.params["volumes"]}
    return {pool.pk: pool for pool in StoragePool.objects.filter(pk__in=ids).select_related("host")}


def _pool_rights(op, vm):
    """storage.manage on the pools of the volumes that go with the VM, again."""
    for pool in _pools(op).values():
        require(op, "storage.manage", pool)


@runner("vm.delete", permission="vm.delete", target=VirtualMachine, related=["host"], policy=_pool_rights)
def delete(op, vm):
    p = op.params
    pools = _pools(op)
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

