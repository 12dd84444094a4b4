"""Device elements of the domain XML: disks and NICs, as attach-disk / attach-interface add them."""

import re
from dataclasses import dataclass

from lxml import etree

from apps.core.xml import sub as _sub

E = etree.Element


@dataclass
class Disk:
    """A file-backed disk (or CD-ROM) as `virsh attach-disk` would add it. A CD-ROM may have no
    source: an empty drive, ready for an ISO to be inserted."""

    source: str
    target: str = "vda"
    bus: str = "virtio"
    format: str = "qcow2"
    device: str = "disk"
    readonly: bool = False

    @property
    def kind(self):
        """Block devices (LVM volumes, partitions, iSCSI LUNs) are type "block"; images "file"."""
        return "block" if self.source.startswith("/dev/") else "file"

    def to_element(self):
        el = E("disk", type=self.kind, device=self.device)
        _sub(el, "driver", name="qemu", type=self.format)
        if not self.source:
            pass  # an empty CD-ROM drive
        elif self.kind == "block":
            _sub(el, "source", dev=self.source)
        else:
            _sub(el, "source", file=self.source)
        _sub(el, "target", dev=self.target, bus=self.bus)
        if self.readonly or self.device == "cdrom":
            _sub(el, "readonly")
        return el


# -- NICs ----------------------------------------------------------------------------------------

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


@dataclass
class Interface:
    """A NIC. `Interface(network="default", model="virtio", mac=None)` is a NIC on a libvirt
    network, as the create wizard adds it; `kind` picks the other ways onto a host's network:
    "bridge" (a Linux bridge named by `source`), "direct" (macvtap on host interface `source`
    in `mode`), "ovs" (an Open vSwitch bridge `source`). `link` "down" unplugs the cable."""

    network: str = "default"
    model: str = "virtio"
    mac: str | None = None
    kind: str = "network"
    source: str | None = None
    mode: str | None = None
    link: str | None = None

    def validate(self):
        """Raise NicError for anything libvirt would refuse or misread; returns self."""
        if self.kind not in NIC_KINDS:
            raise NicError(f"Unknown NIC type {self.kind!r}: use one of {', '.join(NIC_KINDS)}.")
        if self.model not in NIC_MODELS:
            raise NicError(f"Unknown NIC model {self.model!r}: use one of {', '.join(NIC_MODELS)}.")
        if self.link is not None and self.link not in LINK_STATES:
            raise NicError("Link state is up or down.")
        self.mac = normalize_mac(self.mac)
        if self.kind == "network":
            check_network_name(self.source_name)
        elif self.kind == "direct":
            check_ifname(self.source_name, "host interface")
            if self.mode not in MACVTAP_MODES:
                raise NicError(f"Unknown macvtap mode {self.mode!r}: use one of {', '.join(MACVTAP_MODES)}.")
        else:
            check_ifname(self.source_name, "bridge")
        return self

    @property
    def source_name(self):
        return self.source if self.source is not None else self.network if self.kind == "network" else ""

    def to_element(self):
        xml_type = {"network": "network", "bridge": "bridge", "ovs": "bridge", "direct": "direct"}[self.kind]
        el = E("interface", type=xml_type)
        if self.mac:
            _sub(el, "mac", address=self.mac)
        if self.kind == "network":
            _sub(el, "source", network=self.source_name)
        elif self.kind == "direct":
            _sub(el, "source", dev=self.source_name, mode=self.mode or "vepa")
        else:
            _sub(el, "source", bridge=self.source_name)
        if self.kind == "ovs":
            _sub(el, "virtualport", type="openvswitch")
        _sub(el, "model", type=self.model)
        if self.link:
            _sub(el, "link", state=self.link)
        return el
