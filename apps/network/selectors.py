"""Read-only questions about networks, shared by views, live renderers and the diagram."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from apps.authz.rights import rights

from .access import may_use
from .models import Port, VirtualNetwork


def visible_networks(user, queryset=None):
    """The networks `user` may see: network.view on the network itself or on its host."""
    queryset = VirtualNetwork.objects.filter(present=True) if queryset is None else queryset
    r = rights(user, "network.view")
    if r.everything:
        return queryset
    return queryset.filter(Q(pk__in=r.ids("network")) | Q(host_id__in=r.ids("host")))


def with_attached(queryset):
    """Each network with `attached`: how many VMs (present in the inventory) have a NIC on it —
    one subquery, whatever the number of rows."""
    ports = (
        Port.objects.filter(host_id=OuterRef("host_id"), kind="network", source=OuterRef("name"), vm__present=True)
        .order_by()
        .values("host_id")
        .annotate(n=Count("vm_id", distinct=True))
        .values("n")
    )
    return queryset.annotate(attached=Coalesce(Subquery(ports[:1]), 0))


def attached_ports(network):
    """The ports on this network with their VMs, in name order."""
    return (
        Port.objects.filter(host_id=network.host_id, kind="network", source=network.name, vm__present=True)
        .select_related("vm")
        .order_by("vm__name", "mac")
    )


def usable_networks(user, host):
    """The host's networks a user may plug a VM into (network.use or network.manage)."""
    return [
        n for n in VirtualNetwork.objects.filter(host=host, present=True).select_related("host") if may_use(user, n)
    ]
