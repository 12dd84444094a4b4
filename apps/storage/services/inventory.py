"""The storage inventory: written by the monitor and after every storage operation."""

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


def _publish(pool, change):
    realtime.publish_on_commit(realtime.host_group(pool.host_id), "pool", id=pool.pk, change=change)


def pool_inventory_apply(*, host, uuid, info):
    """Bring one pool's row in line with libvirt (info None: the pool is gone, and its volumes)."""
    return mirror_apply(
        StoragePool,
        host=host,
        uuid=uuid,
        info=info,
        fields=POOL_FIELDS,
        publish=_publish,
        on_gone=lambda pool: pool.volumes.all().delete(),
    )


def pool_inventory_sync(*, host, infos):
    return mirror_sync(
        StoragePool,
        host=host,
        infos=infos,
        fields=POOL_FIELDS,
        apply=lambda uuid, info: pool_inventory_apply(host=host, uuid=uuid, info=info),
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
    infos = read()
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
        _publish(pool, "volumes")
    return changed
