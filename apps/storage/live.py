from django.template.loader import render_to_string

from apps.authz.rights import may
from apps.core import realtime

from .models import StoragePool


@realtime.register_renderer("pool")
def render_pool(user, event):
    pool = StoragePool.objects.select_related("host").filter(pk=event["id"]).first()
    if pool is None or not may(user, "storage.view", pool):
        return ""
    pool.can_manage = may(user, "storage.manage", pool)
    pool.volume_count = pool.volumes.count()
    context = {"pool": pool, "volumes": pool.volumes.all(), "change": event.get("change"), "oob": True}
    return render_to_string("storage/live_pool.html", context)


@realtime.register_groups
def storage_groups(user):
    from apps.authz.rights import rights
    from apps.hosts.models import Host

    r = rights(user, "storage.view")
    if r.everything:
        return [realtime.host_group(pk) for pk in Host.objects.values_list("pk", flat=True)]
    host_ids = set(r.ids("host")) | set(
        StoragePool.objects.filter(pk__in=r.ids("pool")).values_list("host_id", flat=True)
    )
    return [realtime.host_group(pk) for pk in host_ids]
