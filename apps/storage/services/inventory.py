"""The storage inventory: written by the monitor and after every storage operation."""

from contextlib import nullcontext
from dataclasses import replace

from django.db import transaction

from apps.core import realtime
from apps.core.inventory import mirror_apply, mirror_sync
from apps.storage.models import StoragePool, StorageVolume

POOL_FIELDS = (
    "name",
    "pool_type",
    "state",
    "autostart",
    "persistent",
    "capacity",
    "allocation",
    "available",
    "target_path",
)
VOLUME_FIELDS = ("key", "path", "format", "capacity", "allocation", "backing_path")

# libvirt gives sizes as unsigned 64-bit numbers; the columns are signed. A size past the column's
# range is no real size — the test driver, for one, wraps a pool's "available" around to ~16 EiB
# when its allocation exceeds its capacity — and storing it would fail the pool's whole sync, every
# tick. It is stored as SIZE_LIMIT instead, which the pages show as "libvirt reports an impossible
# size" (templates/storage/_size.html).
SIZE_LIMIT = 2**63 - 1
POOL_SIZES = ("capacity", "allocation", "available")
VOLUME_SIZES = ("capacity", "allocation")


def _fit(info, sizes):
    """`info` with every size past what the columns hold clamped to SIZE_LIMIT."""
    if info is None:
        return None
    over = {f: SIZE_LIMIT for f in sizes if getattr(info, f) > SIZE_LIMIT}
    return replace(info, **over) if over else info


def _together(_label):
    return nullcontext()


def publish_pool_change(pool, change):
    """Open pool pages and lists re-read the pool after commit."""
    realtime.publish_on_commit(realtime.host_group(pool.host_id), "pool", id=pool.pk, change=change)


def pool_inventory_apply(*, host, uuid, info):
    """Bring one pool's row in line with libvirt (info None: the pool is gone, and its volumes)."""
    return mirror_apply(
        StoragePool,
        host=host,
        uuid=uuid,
        info=_fit(info, POOL_SIZES),
        fields=POOL_FIELDS,
        publish=publish_pool_change,
        on_gone=lambda pool: pool.volumes.all().delete(),
    )


def pool_inventory_sync(*, host, infos, isolate=_together):
    """Reconcile the host's pools with one listing. `isolate(label)` wraps each pool's write: the
    monitor passes one that keeps a pool's failure from stopping the others (that pool then
    has None in the returned list)."""

    def apply(uuid, info):
        with isolate(f"pool {info.name if info is not None else uuid}"):
            return pool_inventory_apply(host=host, uuid=uuid, info=info)
        return None

    return mirror_sync(
        StoragePool,
        host=host,
        infos=[_fit(info, POOL_SIZES) for info in infos],
        fields=POOL_FIELDS,
        apply=apply,
    )


@transaction.atomic
def volume_inventory_sync(*, pool, read):
    """Replace what changed in the pool's volume list; publish once if anything did.

    `read()` lists the pool's volumes from libvirt. The monitor and a worker finishing a volume
    operation can sync the same pool at once: the pool row's lock makes the second wait, and the
    listing is taken only once the lock is held — a listing taken before the other's commit
    would otherwise delete the volume that sync had just added.
    """
    StoragePool.objects.select_for_update().filter(pk=pool.pk).first()
    infos = [_fit(info, VOLUME_SIZES) for info in read()]
    rows = {v.name: v for v in pool.volumes.all()}
    seen = {i.name: i for i in infos}
    changed = False
    for name, info in seen.items():
        vol = rows.get(name)
        values = {f: getattr(info, f) for f in VOLUME_FIELDS}
        if vol is None:
            StorageVolume.objects.create(pool=pool, name=name, **values)
            changed = True
        elif any(getattr(vol, f) != v for f, v in values.items()):
            StorageVolume.objects.filter(pk=vol.pk).update(**values)
            changed = True
    gone = [v.pk for name, v in rows.items() if name not in seen]
    if gone:
        StorageVolume.objects.filter(pk__in=gone).delete()
        changed = True
    if changed:
        publish_pool_change(pool, "volumes")
    return changed
