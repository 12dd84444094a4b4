"""<network>: a libvirt virtual network as a typed class over lxml (apps/core/xml.py).

Read by the host page's network summary (`virsh net-dumpxml`); the network app, when it comes,
edits and defines networks through the same class: what it does not model stays in the element.
"""

from apps.core.xml import Children, Flag, Prop, XMLObject

# The order libvirt writes a network's children in (virNetworkDefFormatBuf).
NETWORK_ORDER = (
    "name", "uuid", "title", "description", "metadata", "forward", "bridge", "mtu", "mac", "domain", "dns",
    "vlan", "bandwidth", "virtualport", "portgroup", "ip", "route",
)  # fmt: skip


class DhcpRange(XMLObject):
    TAG = "range"
    start = Prop("@start")
    end = Prop("@end")


class NetworkIP(XMLObject):
    """An address of the network's bridge, with the DHCP ranges libvirt's dnsmasq hands out."""

    TAG = "ip"
    ORDER = {"": ("tftp", "dhcp")}
    family = Prop("@family")  # ipv4 when not written, or ipv6
    address = Prop("@address")
    netmask = Prop("@netmask")
    prefix = Prop("@prefix")
    dhcp_ranges = Children(DhcpRange, "dhcp/range")

    @property
    def cidr(self):
        """The address and its prefix (192.168.122.1/24), or its netmask when that is how libvirt
        was given it (192.168.122.1/255.255.255.0)."""
        return f"{self.address}/{self.prefix or self.netmask}"


class Network(XMLObject):
    TAG = "network"
    ORDER = {"": NETWORK_ORDER}

    name = Prop("name")
    uuid = Prop("uuid")
    has_forward = Flag("forward")
    forward_mode = Prop("forward/@mode")  # nat, route, open, bridge, private, vepa, passthrough, hostdev
    forward_dev = Prop("forward/@dev")
    bridge = Prop("bridge/@name")
    stp = Prop("bridge/@stp", "onoff")
    mac = Prop("mac/@address")
    domain_name = Prop("domain/@name")
    ips = Children(NetworkIP, "ip")

    @property
    def mode(self):
        """How guests reach the outside: the forward mode (nat when <forward> names none, as
        libvirt reads it), or "isolated" when there is no <forward>."""
        if not self.has_forward:
            return "isolated"
        return self.forward_mode or "nat"
