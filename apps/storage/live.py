"""How a pool looks to one user, in the partials the pages render and the socket pushes: one
presenter per partial, called by the views (list, pool page) and the live renderer alike."""

from django.db.models import Count
from django.template.loader import render_to_string

from apps.authz.rights import may, rights
from apps.core import realtime
from apps.hosts.live import host_groups

from .models import StoragePool


def present_pools(user, pools):
    """Mark on each pool whether the user may manage it: the buttons its row (storage/_pool_row.html)
    and its page (pool_detail.html#pool_summary) show. One rights question for any number."""
    manage = rights(user, "storage.manage")
    for pool in pools:
        pool.can_manage = manage.allows(pool)
    return pools


def pool_page(user, pool):
    """The context of a pool's summary and volume table."""
    present_pools(user, [pool])
    return {"pool": pool, "volumes": pool.volumes.all()}


@realtime.register_renderer("pool")
def render_pool(user, event):
    # Not only present pools: a deleted one's row is removed from the page.
    pool = (
        StoragePool.objects.select_related("host")
        .annotate(volume_count=Count("volumes"))
        .filter(pk=event["id"])
        .first()
    )
    if pool is None or not may(user, "storage.view", pool):
        return ""
    context = {**pool_page(user, pool), "change": event.get("change"), "oob": True}
    return render_to_string("storage/live_pool.html", context)


@realtime.register_groups
def storage_groups(user):
    return host_groups(user, "storage.view", StoragePool, "pool")
