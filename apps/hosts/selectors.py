from apps.authz.rights import scope_ids

from .models import Host


def hosts_where(user, permission):
    """The hosts on which `user` holds `permission` (globally or granted on the host)."""
    ids = scope_ids(user, permission, "host")
    qs = Host.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


def hosts_visible(user):
    return hosts_where(user, "host.view")


DROPPED_HOST = "The host filter was left out: it names a host that your account may not see, or none."


def host_filter(user, value):
    """The host a list's ?host= names, if the user may see it: (host or None, notes). A host the
    user may not see (a colleague's shared link) or that is gone is dropped with a note above the
    list rather than refused, so ids tell nothing and the rest of the page still answers."""
    if not value:
        return None, []
    host = hosts_visible(user).filter(pk=int(value)).first() if str(value).isdigit() else None
    return host, ([] if host is not None else [DROPPED_HOST])
