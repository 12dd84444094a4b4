"""Plugging a VM into a libvirt network: seeing a network (network.view) lets a user list it and
its attached VMs; putting a NIC on it puts their VM on that wire — another team's network, for
instance. That takes network.use (a right roles can hold without managing the network) or
network.manage, on the network or on its host."""

from django.core.exceptions import PermissionDenied

from apps.authz.rights import authorize, may

from .models import VirtualNetwork


def network_named(host, name):
    """The host's network of that name in the inventory, or None."""
    return VirtualNetwork.objects.select_related("host").filter(host=host, name=name, present=True).first()


def may_use(user, net):
    return may(user, "network.use", net) or may(user, "network.manage", net)


def authorize_use(user, host, name):
    """PermissionDenied (audited as a refused network.use) unless the user may plug into the
    host's network `name`; a name kvmweb does not know is refused alike, with the host as target."""
    net = network_named(host, name)
    if net is None:
        if may(user, "network.manage", host):
            return  # a network defined a moment ago, not yet in the inventory: libvirt will judge
        authorize(user, "network.use", host)
        raise PermissionDenied(f"There is no network {name} on {host.name} that you may use.")
    if not may_use(user, net):
        authorize(user, "network.use", net)
