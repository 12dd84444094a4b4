"""The storage inventory: written by the monitor and after every storage operation."""

import uuid as uuidlib

from django.db import transaction

from apps.core import realtime
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


@transaction.atomic
def pool_inventory_apply(*, host, uuid, info):
    """Bring one pool's row in line with libvirt (info None: the pool is gone)."""
    if info is None:
        pool = StoragePool.objects.select_for_update().filter(host=host, uuid=uuid).first()
        if pool is not None and pool.present:
            pool.present = False
            pool.save(update_fields=["present", "updated_at"])
            pool.volumes.all().delete()
            _publish(pool, "deleted")
        return pool
    pool, created = StoragePool.objects.get_or_create(
        host=host, uuid=uuid, defaults={f: getattr(info, f) for f in POOL_FIELDS}
    )
    if created:
        _publish(pool, "created")
        return pool
    pool = StoragePool.objects.select_for_update().get(pk=pool.pk)
    changed = [f for f in POOL_FIELDS if getattr(pool, f) != getattr(info, f)]
    if changed or not pool.present:
        for f in changed:
            setattr(pool, f, getattr(info, f))
        revived = not pool.present
        pool.present = True
        pool.save(update_fields=[*changed, "present", "updated_at"])
        _publish(pool, "created" if revived else "updated")
    return pool


def pool_inventory_sync(*, host, infos):
    seen = {uuidlib.UUID(i.uuid): i for i in infos}
    rows = {p.uuid: p for p in StoragePool.objects.filter(host=host)}
    pools = []
    for key, info in seen.items():
        pool = rows.get(key)
        if pool is None or not pool.present or any(getattr(pool, f) != getattr(info, f) for f in POOL_FIELDS):
            pool = pool_inventory_apply(host=host, uuid=str(key), info=info)
        pools.append(pool)
    for key, pool in rows.items():
        if pool.present and key not in seen:
            pool_inventory_apply(host=host, uuid=str(key), info=None)
    return pools


@transaction.atomic
def volume_inventory_sync(*, pool, infos):
    """Replace what changed in the pool's volume list; publish once if anything did."""
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
