"""<interface>: a NIC, read, edited and written by one class, with the checks the NICs form needs."""

import re

from lxml import etree

from apps.core.xml import Prop, XMLObject

# What the NICs form offers; libvirt would take more, these are the ones QEMU guests commonly need.
NIC_KINDS = {
    "network": "libvirt network",
    "bridge": "Linux bridge",
    "direct": "macvtap (direct to a host interface)",
    "ovs": "Open vSwitch bridge",
}
NIC_MODELS = ("virtio", "e1000e", "rtl8139")
MACVTAP_MODES = ("vepa", "bridge", "private", "passthrough")
LINK_STATES = ("up", "down")
# The form's kind -> libvirt's interface type (Open vSwitch is a bridge with a virtualport).
XML_TYPES = {"network": "network", "bridge": "bridge", "ovs": "bridge", "direct": "direct"}
# Where each type names what it is plugged into.
SOURCE_ATTR = {"network": "network", "bridge": "bridge", "direct": "dev"}

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# Linux interface names: at most 15 bytes, no '/', no whitespace, not "." or ".." (dev_valid_name).
_IFNAME = re.compile(r"^[A-Za-z0-9_.:@+-]{1,15}$")
# libvirt network names: no '/', kept to what virsh users type.
_NETNAME = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


class NicError(ValueError):
    """Bad NIC input; the message is for the form. Nothing was changed."""


def normalize_mac(mac):
    """A unicast MAC as libvirt writes it (lower case, colons), or None to let libvirt choose.
    Multicast addresses (lowest bit of the first octet set) cannot be a NIC's own address."""
    if mac is None or not str(mac).strip():
        return None
    value = str(mac).strip().lower().replace("-", ":")
    if not _MAC.match(value):
        raise NicError(f"{mac!r} is not a MAC address: six pairs of hex digits such as 52:54:00:12:34:56.")
    if int(value[:2], 16) & 1:
        raise NicError(f"{value} is a multicast address; a NIC needs a unicast one (even first octet).")
    if value == "00:00:00:00:00:00":
        raise NicError("00:00:00:00:00:00 is not a usable MAC address.")
    return value


def check_ifname(name, what="interface"):
    if not name or not _IFNAME.match(name) or name in (".", ".."):
        raise NicError(
            f"{name!r} is not a valid {what} name: up to 15 letters, digits, '-', '_' or '.', no spaces or slashes."
        )
    return name


def check_network_name(name):
    if not name or not _NETNAME.match(name):
        raise NicError(f"{name!r} is not a libvirt network name.")
    return name


class Interface(XMLObject):
    """A NIC. `Interface(network="default", model="virtio", mac=None)` is a NIC on a libvirt
    network, as the create wizard adds it; `kind` picks the other ways onto a host's network:
    "bridge" (a Linux bridge named by `source`), "direct" (macvtap on host interface `source`
    in `mode`), "ovs" (an Open vSwitch bridge `source`). `link` "down" unplugs the cable.
    `Interface.wrap(element)` reads one libvirt wrote (any type, including ones the form does
    not offer)."""

    TAG = "interface"
    ORDER = {
        "": (
            "mac", "source", "virtualport", "ip", "route", "script", "downscript", "backenddomain", "target",
            "guest", "model", "driver", "backend", "filterref", "tune", "teaming", "link", "mtu", "coalesce",
            "rom", "boot", "alias", "address",
        ),
    }  # fmt: skip

    type = Prop("@type")  # network, bridge, direct, user, hostdev, …
    mac = Prop("mac/@address")
    network = Prop("source/@network")
    bridge = Prop("source/@bridge")
    source_dev = Prop("source/@dev")
    mode = Prop("source/@mode")  # macvtap: vepa | bridge | private | passthrough
    portgroup = Prop("source/@portgroup")
    virtualport = Prop("virtualport/@type")
    target = Prop("target/@dev")  # the host-side device (vnet0, macvtap0) while running
    model = Prop("model/@type")
    link = Prop("link/@state")
    boot_order = Prop("boot/@order", int)

    def __init__(self, network="default", model="virtio", mac=None, kind="network", source=None, mode=None, link=None):
        self.el = etree.Element(self.TAG)
        self.type = XML_TYPES.get(kind, kind)  # an unknown kind is written as asked; validate() refuses it
        self.mac = mac
        name = source if source is not None else network if kind == "network" else ""
        attr = SOURCE_ATTR.get(self.type)
        if attr:
            self.place("source", etree.Element("source", {attr: name}))
        if kind == "direct" and mode is not None:
            self.mode = mode
        if kind == "ovs":
            self.virtualport = "openvswitch"
        self.model = model
        self.link = link

    @property
    def kind(self):
        """The form's name for it: network, bridge, direct, ovs (a bridge with an Open vSwitch
        port), or libvirt's type for anything else."""
        if self.type == "bridge" and self.virtualport == "openvswitch":
            return "ovs"
        return self.type or ""

    @property
    def source_name(self):
        """The network, bridge or host interface the NIC is plugged into."""
        attr = SOURCE_ATTR.get(self.type)
        return (self.el.find("source").get(attr) or "") if attr and self.el.find("source") is not None else ""

    @property
    def source(self):
        return self.source_name

    def validate(self):
        """Raise NicError for anything libvirt would refuse or misread; returns self."""
        kind = self.kind
        if kind not in NIC_KINDS:
            raise NicError(f"Unknown NIC type {kind!r}: use one of {', '.join(NIC_KINDS)}.")
        if self.model not in NIC_MODELS:
            raise NicError(f"Unknown NIC model {self.model!r}: use one of {', '.join(NIC_MODELS)}.")
        if self.link is not None and self.link not in LINK_STATES:
            raise NicError("Link state is up or down.")
        self.mac = normalize_mac(self.mac)
        if kind == "network":
            check_network_name(self.source_name)
        elif kind == "direct":
            check_ifname(self.source_name, "host interface")
            if self.mode not in MACVTAP_MODES:
                raise NicError(f"Unknown macvtap mode {self.mode!r}: use one of {', '.join(MACVTAP_MODES)}.")
        else:
            check_ifname(self.source_name, "bridge")
        return self
