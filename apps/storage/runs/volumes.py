"""Volumes on the worker: create, resize, clone, wipe, delete (services/volumes.py queues them).
A create and a clone report progress and honour a cancel (runs/allocation.py)."""

from apps.core.errors import OperationError
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.runners import runner
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import FORMATS, BackingStore, Volume

from .allocation import LONG_LIMIT, copy_volume, create_volume


def operation_pool(op):
    """Volume operations name their pool in params (a new volume has no row yet)."""
    pool_id = (op.params or {}).get("pool_id")
    return StoragePool.objects.select_related("host").filter(pk=pool_id).first() if pool_id else None


def _create(op, conn, pool):
    p = op.params
    backing = BackingStore(**{k: p["backing"][k] for k in ("path", "format")}) if p.get("backing") else None
    create_volume(
        op,
        conn,
        pool,
        name=p["name"],
        capacity=p["capacity"],
        format=p["format"],
        preallocate=p["preallocate"],
        backing=backing,
        span=(1, 99),
    )
    kind = "preallocated" if p["preallocate"] else "sparse"
    return p["name"], f"created {kind} {p['format']} volume {p['name']} ({human(p['capacity'])})"


def _resize(op, conn, pool):
    p = op.params
    volume_virt.resize(conn, str(pool.uuid), p["name"], p["capacity"], shrink=p["shrink"])
    return p["name"], f"{'shrank' if p['shrink'] else 'grew'} {p['name']} to {human(p['capacity'])}"


def _clone(op, conn, pool):
    p = op.params
    source = volume_virt.volume_info(conn, str(pool.uuid), p["name"])
    if source is None:
        raise OperationError(f"Volume {p['name']} is gone.")
    spec = Volume(
        name=p["new_name"],
        capacity=source.capacity,
        allocation=source.allocation if source.allocation >= source.capacity else 0,
        format=source.format if source.format in FORMATS else "raw",
    )
    copy_volume(
        op,
        conn,
        uri=pool.host.uri,
        pool_uuid=str(pool.uuid),
        source_name=p["name"],
        xml=spec.to_xml(),
        expected=source.allocation,
        span=(1, 99),
        label=f"copying {p['name']} to {p['new_name']} ({human(source.allocation)} allocated)",
    )
    return p["new_name"], f"cloned {p['name']} as {p['new_name']}"


def _wipe(op, conn, pool):
    volume_virt.wipe(conn, str(pool.uuid), op.params["name"])
    return op.params["name"], f"wiped {op.params['name']}"


def _delete(op, conn, pool):
    volume_virt.delete(conn, str(pool.uuid), op.params["name"])
    return None, f"deleted {op.params['name']}"


EXECUTORS = {
    "volume.create": _create,
    "volume.resize": _resize,
    "volume.clone": _clone,
    "volume.wipe": _wipe,
    "volume.delete": _delete,
}


@runner(
    "volume.clone", permission="storage.manage", target=operation_pool, soft_time_limit=LONG_LIMIT, cancellable=True
)
@runner("volume.create", permission="storage.manage", target=operation_pool, cancellable=True)
@runner("volume.resize", "volume.wipe", "volume.delete", permission="storage.manage", target=operation_pool)
def volume(op, pool):
    with connection.connected(pool.host.uri) as conn:
        try:
            name, message = EXECUTORS[op.kind](op, conn, pool)
        except BaseException:
            refresh_quietly(conn, pool)
            raise
        pool_refresh_inventory(conn, pool.host, str(pool.uuid))
    volume = StorageVolume.objects.filter(pool=pool, name=name).first() if name else None
    if volume is not None and op.target_id != str(volume.pk):
        op.target_id = str(volume.pk)
        op.save(update_fields=["target_id"])
    return message
