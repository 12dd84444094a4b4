from apps.authz.rights import scope_ids

from .models import Host


def hosts_visible(user):
    ids = scope_ids(user, "host.view", "host")
    qs = Host.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)
