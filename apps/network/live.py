"""How a network looks to one user, in the partials the pages render and the socket pushes: one
presenter per partial, called by the views and the live renderer alike."""

from datetime import UTC, datetime

from django.template.loader import render_to_string

from apps.authz.rights import may, rights
from apps.core import realtime
from apps.hosts.live import host_groups

from .models import VirtualNetwork
from .selectors import attached_ports, with_attached


def present_networks(user, networks):
    """Mark on each network whether the user may manage it. One rights question for any number."""
    manage = rights(user, "network.manage")
    for net in networks:
        net.can_manage = manage.allows(net)
    return networks


def _expiry(seconds):
    """libvirt gives a lease's end in seconds since the epoch (0: it never ends); a time reads better."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def network_page(user, net):
    """The context of a network's summary: its ports (attached VMs) and leases, each lease
    with the VM that owns its MAC where the user may see that VM."""
    present_networks(user, [net])
    ports = list(attached_ports(net))
    view_vms = rights(user, "vm.view")
    owners = {p.mac: p.vm for p in ports if view_vms.allows(p.vm)}
    leases = [
        {**lease, "vm": owners.get(lease["mac"]), "expires": _expiry(lease.get("expires"))} for lease in net.leases
    ]
    hosts = [{**h, "vm": owners.get(h["mac"])} for h in net.dhcp_hosts]
    visible_ports = [p for p in ports if view_vms.allows(p.vm)]
    return {
        "net": net,
        "ports": visible_ports,
        "hidden_ports": len(ports) - len(visible_ports),
        "leases": leases,
        "static_hosts": hosts,
    }


@realtime.register_renderer("network")
def render_network(user, event):
    # Not only present networks: a deleted one's row is removed from the page.
    net = with_attached(VirtualNetwork.objects.select_related("host")).filter(pk=event["id"]).first()
    if net is None or not may(user, "network.view", net):
        return ""
    context = {**network_page(user, net), "change": event.get("change"), "oob": True}
    return render_to_string("network/live_network.html", context)


@realtime.register_groups
def network_groups(user):
    return host_groups(user, "network.view", VirtualNetwork, "network")
