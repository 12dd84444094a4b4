from django.db.models import Count, Q

from apps.authz.rights import rights

from .models import StoragePool


def pools_visible(user, *, host_id=None):
    """Pools the user may view (pool grants, host grants or global), filtered in the query."""
    r = rights(user, "storage.view")
    qs = StoragePool.objects.filter(present=True).select_related("host").annotate(volume_count=Count("volumes"))
    if host_id is not None:
        qs = qs.filter(host_id=host_id)
    if r.everything:
        return qs
    return qs.filter(Q(host_id__in=r.ids("host")) | Q(pk__in=r.ids("pool")))


def pool_for(user, pk):
    pool = StoragePool.objects.select_related("host").filter(pk=pk, present=True).first()
    if pool is None or not rights(user, "storage.view").allows(pool):
        return None
    return pool


def iso_images(user, host):
    """The ISO library's volumes on a host, for the VM wizard and CD-ROM insert."""
    pool = pools_visible(user, host_id=host.pk).filter(is_iso_library=True).first()
    return list(pool.volumes.all()) if pool else []
