"""<network>: a whole libvirt virtual network as typed classes over lxml (apps/core/xml.py).

The forms build networks through these classes, the adapters read libvirt's copies through them,
and the policy walks what they model. What a class does not model stays in the element, so an
edit (take the inactive XML, change it, redefine) drops nothing. Each ORDER is the order libvirt
9 writes the children in (virNetworkDefFormatBuf), so what the forms emit reads like
`virsh net-dumpxml`. The small `*_xml` builders at the end give the one element each that
networkUpdate (`virsh net-update`) takes.
"""

import ipaddress
import re

from apps.core.xml import Child, Children, Prop, XMLObject

NETWORK_ORDER = (
    "name", "uuid", "title", "description", "metadata", "forward", "bridge", "mtu", "mac", "domain", "dns",
    "vlan", "bandwidth", "port", "ip", "route", "virtualport", "portgroup",
)  # fmt: skip
FORWARD_MODES = ("nat", "route", "open", "bridge", "passthrough", "private", "vepa", "hostdev")
# Modes in which libvirt makes the bridge itself and may run dnsmasq on it (an <ip>, DNS, DHCP).
MANAGED_MODES = ("nat", "route", "open", "isolated")
# The four macvtap modes: guests get a macvtap device over one of the host's interfaces.
MACVTAP_MODES = ("bridge", "private", "vepa", "passthrough")
PCI_ADDRESS = re.compile(
    r"(?:(?P<domain>[0-9a-f]{4}):)?(?P<bus>[0-9a-f]{2}):(?P<slot>[0-9a-f]{2})\.(?P<function>[0-7])"
)


# -- shared pieces: VLAN tags, QoS, virtual ports ---------------------------------------------


class VlanTag(XMLObject):
    TAG = "tag"
    id = Prop("@id", int)
    native_mode = Prop("@nativeMode")  # tagged | untagged, on a trunk


class Vlan(XMLObject):
    """One tag, or several with trunk='yes' (Open vSwitch, SR-IOV)."""

    TAG = "vlan"
    trunk = Prop("@trunk", "yesno")
    tags = Children(VlanTag, "tag")

    @classmethod
    def of(cls, *ids):
        """A VLAN of these tags: a trunk when there are several."""
        return cls(trunk=True if len(ids) > 1 else None, tags=[VlanTag(id=i) for i in ids])

    @property
    def ids(self):
        return [tag.id for tag in self.tags]


class Rate(XMLObject):
    """<inbound> or <outbound>: average and peak in KiB/s, burst in KiB (floor only on a NIC's
    portgroup). A Child declaration names the element, so one class serves both directions."""

    TAG = "inbound"
    average = Prop("@average", int)
    peak = Prop("@peak", int)
    floor = Prop("@floor", int)
    burst = Prop("@burst", int)


class Bandwidth(XMLObject):
    TAG = "bandwidth"
    ORDER = {"": ("inbound", "outbound")}
    inbound = Child(Rate, "inbound")
    outbound = Child(Rate, "outbound")


class VirtualPort(XMLObject):
    TAG = "virtualport"
    type = Prop("@type")  # openvswitch, 802.1Qbh, 802.1Qbg, midonet
    profile_id = Prop("parameters/@profileid")
    interface_id = Prop("parameters/@interfaceid")


class Portgroup(XMLObject):
    """A named set of settings a guest's NIC picks (portgroup='…'): a VLAN, QoS, a virtual port."""

    TAG = "portgroup"
    ORDER = {"": ("vlan", "virtualport", "bandwidth")}
    name = Prop("@name")
    default = Prop("@default", "yesno")
    trust_guest_rx_filters = Prop("@trustGuestRxFilters", "yesno")
    vlan = Child(Vlan)
    virtualport = Child(VirtualPort)
    bandwidth = Child(Bandwidth)

    @property
    def vlan_tag(self):
        """The first VLAN tag, or None: what a list shows."""
        vlan = self.vlan
        return vlan.ids[0] if vlan is not None and vlan.tags else None


# -- <forward> --------------------------------------------------------------------------------


class ForwardInterface(XMLObject):
    TAG = "interface"
    dev = Prop("@dev")


class PciAddress(XMLObject):
    """An SR-IOV virtual function by PCI address, for forward mode='hostdev'."""

    TAG = "address"
    type = Prop("@type")
    domain = Prop("@domain")
    bus = Prop("@bus")
    slot = Prop("@slot")
    function = Prop("@function")

    @classmethod
    def from_text(cls, text):
        """'0000:03:10.1' (or '03:10.1') as libvirt's hex attributes; ValueError when it is not one."""
        found = PCI_ADDRESS.fullmatch(text.strip().lower())
        if found is None or int(found["slot"], 16) > 0x1F:
            raise ValueError(f"{text.strip()!r} is not a PCI address such as 0000:03:10.1")
        domain = found["domain"] or "0000"
        return cls(
            type="pci", domain=f"0x{domain}", bus=f"0x{found['bus']}", slot=f"0x{found['slot']}",
            function=f"0x{found['function']}",
        )  # fmt: skip

    @property
    def text(self):
        """0000:03:10.1, as lspci -D writes it."""
        try:
            d, b, s, f = (int(v or "0", 0) for v in (self.domain, self.bus, self.slot, self.function))
        except ValueError:
            return f"{self.domain}:{self.bus}:{self.slot}.{self.function}"
        return f"{d:04x}:{b:02x}:{s:02x}.{f:x}"


class Nat(XMLObject):
    """The addresses and ports NAT may use on the outside (iptables' --to-source)."""

    TAG = "nat"
    ORDER = {"": ("address", "port")}
    ipv6 = Prop("@ipv6", "yesno")
    address_start = Prop("address/@start")
    address_end = Prop("address/@end")
    port_start = Prop("port/@start", int)
    port_end = Prop("port/@end", int)


class Forward(XMLObject):
    """How guests reach the outside. `dev` and the <interface> list name host interfaces (NAT and
    routed egress, macvtap); <pf> an SR-IOV physical function; <address> a pool of its VFs."""

    TAG = "forward"
    ORDER = {"": ("driver", "nat", "pf", "interface", "address")}
    dev = Prop("@dev")
    mode = Prop("@mode")
    managed = Prop("@managed", "yesno")
    driver = Prop("driver/@name")  # vfio | kvm, for hostdev
    nat = Child(Nat)
    pf = Prop("pf/@dev")
    interfaces = Children(ForwardInterface, "interface")
    addresses = Children(PciAddress, "address")


# -- DNS --------------------------------------------------------------------------------------


class Hostname(XMLObject):
    TAG = "hostname"
    text = Prop(".")


class DnsHost(XMLObject):
    """An address and the names dnsmasq answers for it."""

    TAG = "host"
    ip = Prop("@ip")
    hostname_elements = Children(Hostname, "hostname")

    @property
    def hostnames(self):
        return [h.text for h in self.hostname_elements]

    @hostnames.setter
    def hostnames(self, names):
        self.hostname_elements = [Hostname(text=name) for name in names]


class DnsForwarder(XMLObject):
    """An upstream server (addr), optionally only for one domain; domain alone with no addr means
    'answer that domain locally'."""

    TAG = "forwarder"
    domain = Prop("@domain")
    addr = Prop("@addr")


class DnsTxt(XMLObject):
    TAG = "txt"
    name = Prop("@name")
    value = Prop("@value")


class DnsSrv(XMLObject):
    TAG = "srv"
    service = Prop("@service")
    protocol = Prop("@protocol")
    domain = Prop("@domain")
    target = Prop("@target")
    port = Prop("@port", int)
    priority = Prop("@priority", int)
    weight = Prop("@weight", int)


class Dns(XMLObject):
    TAG = "dns"
    ORDER = {"": ("forwarder", "txt", "srv", "host")}
    enable = Prop("@enable", "yesno")
    forward_plain_names = Prop("@forwardPlainNames", "yesno")
    forwarders = Children(DnsForwarder, "forwarder")
    txts = Children(DnsTxt, "txt")
    srvs = Children(DnsSrv, "srv")
    hosts = Children(DnsHost, "host")


# -- <ip> and its DHCP ------------------------------------------------------------------------


class DhcpRange(XMLObject):
    TAG = "range"
    start = Prop("@start")
    end = Prop("@end")
    lease_expiry = Prop("lease/@expiry", int)
    lease_unit = Prop("lease/@unit")


class DhcpHost(XMLObject):
    """A static lease: by MAC (IPv4) or by DHCP unique id (IPv6), to an address, with a name."""

    TAG = "host"
    mac = Prop("@mac")
    id = Prop("@id")
    name = Prop("@name")
    ip = Prop("@ip")
    lease_expiry = Prop("lease/@expiry", int)
    lease_unit = Prop("lease/@unit")


class NetworkIP(XMLObject):
    """An address of the network's bridge, with the DHCP ranges and static hosts of its dnsmasq."""

    TAG = "ip"
    ORDER = {"": ("tftp", "dhcp"), "dhcp": ("range", "host", "bootp")}
    family = Prop("@family")  # ipv4 when not written, or ipv6
    address = Prop("@address")
    netmask = Prop("@netmask")
    prefix = Prop("@prefix", int)
    local_ptr = Prop("@localPtr", "yesno")
    tftp_root = Prop("tftp/@root")
    dhcp_ranges = Children(DhcpRange, "dhcp/range")
    dhcp_hosts = Children(DhcpHost, "dhcp/host")
    bootp_file = Prop("dhcp/bootp/@file")
    bootp_server = Prop("dhcp/bootp/@server")

    @property
    def cidr(self):
        """The address and its prefix (192.168.122.1/24), or its netmask when that is how libvirt
        was given it (192.168.122.1/255.255.255.0)."""
        return f"{self.address}/{self.prefix or self.netmask}"

    @property
    def is_ipv6(self):
        return self.family == "ipv6" or ":" in (self.address or "")

    @property
    def interface(self):
        """The address with its network (ipaddress.ip_interface), or None when it does not read as
        one; an IPv4 address without prefix or netmask takes its classful default, as libvirt does."""
        if not self.address:
            return None
        mask = self.prefix if self.prefix is not None else self.netmask
        try:
            if mask is None:
                address = ipaddress.ip_address(self.address)
                return ipaddress.ip_interface(f"{address}/{_classful_prefix(address)}")
            return ipaddress.ip_interface(f"{self.address}/{mask}")
        except ValueError:
            return None


def _classful_prefix(address):
    if address.version == 6:
        return 64
    first = int(address) >> 24
    return 8 if first < 128 else 16 if first < 192 else 24


class Route(XMLObject):
    """A static route the host adds when the network starts: `address/prefix via gateway`."""

    TAG = "route"
    family = Prop("@family")
    address = Prop("@address")
    netmask = Prop("@netmask")
    prefix = Prop("@prefix", int)
    gateway = Prop("@gateway")
    metric = Prop("@metric", int)


# -- the network ------------------------------------------------------------------------------


class Network(XMLObject):
    TAG = "network"
    ORDER = {"": NETWORK_ORDER}

    ipv6 = Prop("@ipv6", "yesno")  # guest-to-guest IPv6 without an IPv6 address on the bridge
    trust_guest_rx_filters = Prop("@trustGuestRxFilters", "yesno")
    name = Prop("name")
    uuid = Prop("uuid")
    title = Prop("title")
    description = Prop("description")
    forward = Child(Forward)
    bridge = Prop("bridge/@name")
    bridge_zone = Prop("bridge/@zone")
    stp = Prop("bridge/@stp", "onoff")
    delay = Prop("bridge/@delay", int)
    mac_table_manager = Prop("bridge/@macTableManager")
    mtu = Prop("mtu/@size", int)
    mac = Prop("mac/@address")
    domain_name = Prop("domain/@name")
    domain_local_only = Prop("domain/@localOnly", "yesno")
    dns = Child(Dns)
    vlan = Child(Vlan)
    bandwidth = Child(Bandwidth)
    port_isolated = Prop("port/@isolated", "yesno")
    ips = Children(NetworkIP, "ip")
    routes = Children(Route, "route")
    virtualport = Child(VirtualPort)
    portgroups = Children(Portgroup, "portgroup")

    @property
    def has_forward(self):
        return self.forward is not None

    @property
    def forward_mode(self):
        forward = self.forward
        return forward.mode if forward is not None else None

    @property
    def forward_dev(self):
        forward = self.forward
        return forward.dev if forward is not None else None

    @property
    def mode(self):
        """How guests reach the outside: the forward mode (nat when <forward> names none, as
        libvirt reads it), or "isolated" when there is no <forward>."""
        if not self.has_forward:
            return "isolated"
        return self.forward_mode or "nat"

    @property
    def kind(self):
        """Which of kvmweb's kinds of network this is (the keys of the mode forms): the managed
        modes and hostdev as they are; forward mode='bridge' is Open vSwitch with an openvswitch
        virtual port, a host bridge with a bridge name, and macvtap's bridge mode without one;
        private, vepa and passthrough are macvtap."""
        mode = self.mode
        if mode == "bridge":
            if self.virtualport_type == "openvswitch":
                return "openvswitch"
            return "bridge" if self.bridge else "macvtap"
        return "macvtap" if mode in MACVTAP_MODES else mode

    @property
    def virtualport_type(self):
        port = self.virtualport
        return port.type if port is not None else None

    @property
    def forward_devices(self):
        """The host devices the network forwards over, in order, once each: the forward dev, the
        interface pool, the SR-IOV PF and the VFs (as PCI addresses)."""
        forward = self.forward
        if forward is None:
            return []
        names = [forward.dev, *(i.dev for i in forward.interfaces), forward.pf]
        names += [a.text for a in forward.addresses]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def ipv4(self):
        """The first IPv4 <ip> (the one libvirt's DHCP for IPv4 runs on), or None."""
        return next((ip for ip in self.ips if not ip.is_ipv6), None)

    @property
    def ipv6s(self):
        return [ip for ip in self.ips if ip.is_ipv6]

    @property
    def cidr(self):
        """The network's main address as address/prefix (its first IPv4 one, else its first), or
        None when it has no address."""
        ip = self.ipv4 or next(iter(self.ips), None)
        return ip.cidr if ip is not None and ip.address else None


# -- single elements for networkUpdate (virsh net-update) -------------------------------------


def dhcp_host_xml(*, ip, mac=None, name=None, id=None):
    """<host mac= name= ip=/> for section ip-dhcp-host (IPv6 hosts give `id`, a DUID)."""
    return DhcpHost(mac=mac or None, id=id or None, name=name or None, ip=ip).to_xml()


def dns_host_xml(*, ip, hostnames):
    """<host ip=><hostname>…</hostname></host> for section dns-host."""
    return DnsHost(ip=ip, hostnames=list(hostnames)).to_xml()


def dhcp_range_xml(*, start, end):
    """<range start= end=/> for section ip-dhcp-range."""
    return DhcpRange(start=start, end=end).to_xml()


def portgroup_xml(*, name, default=False, vlan_ids=(), inbound=None, outbound=None, virtualport_type=None):
    """<portgroup> for section portgroup: VLAN tags (several make a trunk), QoS as
    {"average", "peak", "burst"} dicts, a virtual port type."""
    bandwidth = None
    if inbound or outbound:
        bandwidth = Bandwidth(
            inbound=Rate(**inbound) if inbound else None, outbound=Rate(**outbound) if outbound else None
        )
    group = Portgroup(
        name=name,
        default=True if default else None,
        vlan=Vlan.of(*vlan_ids) if vlan_ids else None,
        virtualport=VirtualPort(type=virtualport_type) if virtualport_type else None,
        bandwidth=bandwidth,
    )
    return group.to_xml()
