"""A host's network interfaces, from what libvirt knows of any host and what `ip` says of this one:

- node devices: NICs with their link, speed, MAC and PCI driver; SR-IOV physical functions with
  how many virtual functions they can have and how many a guest holds;
- libvirt's interface definitions: bridges and bonds with their members, VLANs (the only source
  of those on a remote host);
- on the local host, `ip -j -d link` and `ip -j addr`: kinds (bridge, bond, VLAN, Open vSwitch,
  tap, macvtap), masters, addresses, and link speed from sysfs.

Each source fills what it knows best; the result is a sorted list of plain dataclasses.
"""

import json
import subprocess
from dataclasses import dataclass, replace

import libvirt

from apps.core.errors import from_libvirt
from apps.core.xml import XMLError

from .nodedev_xml import InterfaceDef, NodeDevice

UNKNOWN_SPEED = 4294967295  # the kernel's -1 as unsigned: a link without a speed
# `ip -d link` linkinfo.info_kind -> kvmweb's kind; others (veth, ifb, dummy, macvlan…) are "other".
IP_KINDS = {
    "bridge": "bridge",
    "bond": "bond",
    "vlan": "vlan",
    "openvswitch": "openvswitch",
    "tun": "tap",
    "macvtap": "macvtap",
}
# Kinds whose `link` in `ip -d link` is the lower device (for a veth it is the peer).
HAS_PARENT = ("vlan", "macvtap")
# libvirt <interface type> -> kind.
LIBVIRT_KINDS = {"ethernet": "ethernet", "bridge": "bridge", "bond": "bond", "vlan": "vlan"}
# A VF bound to one of these drivers is handed to a guest (libvirt detaches it for hostdev).
GUEST_DRIVERS = ("vfio-pci", "pci-stub", "pciback", "xen-pciback")
# Errors that mean "this driver keeps no such objects", not "the host is gone".
NOT_KEPT = {
    libvirt.VIR_ERR_NO_SUPPORT,
    getattr(libvirt, "VIR_ERR_OPERATION_UNSUPPORTED", libvirt.VIR_ERR_NO_SUPPORT),
}
VANISHED = {libvirt.VIR_ERR_NO_NODE_DEVICE, libvirt.VIR_ERR_NO_INTERFACE}


@dataclass(frozen=True)
class HostIface:
    name: str
    kind: str = "other"  # ethernet, bridge, bond, vlan, openvswitch, tap, macvtap, sriov-vf, loopback, other
    mac: str = ""
    state: str = ""  # up, down, unknown…
    speed_mbps: int | None = None
    mtu: int | None = None
    driver: str = ""
    addresses: tuple = ()  # ("10.0.0.5/24", "fe80::1/64")
    master: str = ""  # the bridge or bond it is enslaved to
    vlan_id: int | None = None
    parent: str = ""  # a VLAN's, macvtap's or VF's lower device
    sriov_total: int | None = None  # SR-IOV PF: VFs it can have…
    sriov_used: int | None = None  # … and VFs held by guests
    pci_address: str = ""


def _speed(value):
    return value if isinstance(value, int) and 0 < value < UNKNOWN_SPEED else None


def _described(objects, cls):
    """Each object's XML read as `cls`, leaving out one that vanished between list and read."""
    found = []
    for obj in objects:
        try:
            found.append(cls.parse(obj.XMLDesc(0)))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in VANISHED:
                raise from_libvirt(exc) from None
        except XMLError:
            continue
    return found


def _list_devices(conn, flag):
    try:
        return _described(conn.listAllDevices(flag), NodeDevice)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in NOT_KEPT:
            return []
        raise from_libvirt(exc) from None


def from_node_devices(conn) -> dict[str, HostIface]:
    """Interfaces libvirt keeps as node devices (none on the test driver)."""
    nets = _list_devices(conn, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)
    if not nets:
        return {}
    pcis = {d.name: d for d in _list_devices(conn, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)}
    by_address = {d.pci_address: d for d in pcis.values()}
    iface_of = {d.parent: d.interface for d in nets if d.parent in pcis}  # PCI device name -> its NIC
    found = {}
    for dev in nets:
        if not dev.interface:
            continue
        pci = pcis.get(dev.parent or "")
        kind = "loopback" if dev.interface == "lo" else "other" if dev.virtual or pci is None else "ethernet"
        values = {"kind": kind, "driver": "", "parent": ""}
        if pci is not None:
            values.update(driver=pci.driver or "", pci_address=pci.pci_address)
            vfs = pci.virt_functions[0] if pci.virt_functions else None
            if vfs is not None:
                held = [by_address.get(a.text) for a in vfs.addresses]
                values.update(
                    sriov_total=vfs.max_count if isinstance(vfs.max_count, int) else len(vfs.addresses),
                    sriov_used=sum(1 for d in held if d is not None and d.driver in GUEST_DRIVERS),
                )
            if pci.phys_function:
                pf = by_address.get(pci.phys_function[0].text)
                values.update(kind="sriov-vf", parent=iface_of.get(pf.name, "") if pf is not None else "")
        found[dev.interface] = HostIface(
            name=dev.interface,
            mac=(dev.mac or "").lower() if kind != "loopback" else "",
            state=(dev.link_state or "").lower(),
            speed_mbps=_speed(dev.link_speed),
            **values,
        )
    return found


def from_libvirt_interfaces(conn) -> dict[str, HostIface]:
    """Interfaces from libvirt's interface driver: kinds, members and VLANs; empty where the
    driver keeps none."""
    try:
        defs = _described(conn.listAllInterfaces(0), InterfaceDef)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in NOT_KEPT or exc.get_error_code() == libvirt.VIR_ERR_NO_CONNECT:
            return {}
        raise from_libvirt(exc) from None
    found = {}
    masters = {}
    for d in defs:
        for member in (*d.bridge_members, *d.bond_members):
            if member.name:
                masters[member.name] = d.name
    for d in defs:
        if not d.name:
            continue
        kind = "loopback" if d.name == "lo" else LIBVIRT_KINDS.get(d.type or "", "other")
        found[d.name] = HostIface(
            name=d.name,
            kind=kind,
            mac=(d.mac or "").lower() if kind != "loopback" else "",
            state=(d.link_state or "").lower(),
            speed_mbps=_speed(d.link_speed),
            mtu=d.mtu if isinstance(d.mtu, int) else None,
            addresses=tuple(d.addresses),
            master=masters.get(d.name, ""),
            vlan_id=d.vlan_tag if isinstance(d.vlan_tag, int) else None,
            parent=d.vlan_parent or "",
        )
    return found


def from_ip(links, addrs) -> dict[str, HostIface]:
    """Interfaces from parsed `ip -j -d link` and `ip -j addr` output."""
    addresses = {}
    for a in addrs:
        found = [f"{i['local']}/{i['prefixlen']}" for i in a.get("addr_info") or [] if i.get("local")]
        addresses[a.get("ifname")] = tuple(found)
    found = {}
    for link in links:
        name = link.get("ifname")
        if not name:
            continue
        info = link.get("linkinfo") or {}
        info_kind = info.get("info_kind")
        if link.get("link_type") == "loopback":
            kind = "loopback"
        elif info_kind:
            kind = IP_KINDS.get(info_kind, "other")
        else:  # no software kind: hardware when the kernel names the bus it sits on
            kind = "ethernet" if link.get("link_type") == "ether" and link.get("parentbus") else "other"
        data = info.get("info_data") or {}
        vlan = data.get("id") if kind == "vlan" else None
        found[name] = HostIface(
            name=name,
            kind=kind,
            mac=(link.get("address") or "").lower() if kind != "loopback" else "",
            state=(link.get("operstate") or "").lower(),
            mtu=link.get("mtu"),
            addresses=addresses.get(name, ()),
            master=link.get("master") or "",
            vlan_id=vlan if isinstance(vlan, int) else None,
            parent=(link.get("link") or "") if kind in HAS_PARENT else "",
        )
    return found


def _ip_json(*args):
    """`ip -j …` parsed; [] when ip is missing or says nothing useful (the page then shows what
    libvirt knows)."""
    try:
        done = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    try:
        data = json.loads(done.stdout or "[]")
    except ValueError:
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def read_speed(name):
    """Mb/s from sysfs; None where the link has none (down, virtual) or the name is odd."""
    if not name or "/" in name or name.startswith("."):
        return None
    try:
        with open(f"/sys/class/net/{name}/speed") as f:
            value = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return _speed(value)


def _merge(base, extra):
    """`base` with what `extra` knows and it does not; `extra`'s kind wins over a vague one."""
    changes = {}
    for name in ("mac", "state", "speed_mbps", "mtu", "driver", "addresses", "master", "vlan_id", "parent"):
        if not getattr(base, name) and getattr(extra, name):
            changes[name] = getattr(extra, name)
    if extra.kind not in ("other", "ethernet") and base.kind in ("other", "ethernet"):
        changes["kind"] = extra.kind
    return replace(base, **changes) if changes else base


def _now(known, now):
    """A libvirt-side description updated with what `ip` says of the machine now: its kind
    (unless libvirt knows it for an SR-IOV VF), state, MTU, master and addresses win; driver,
    speed and SR-IOV counts stay libvirt's."""
    if known is None:
        return now
    kind = known.kind if known.kind == "sriov-vf" or now.kind == "other" else now.kind
    return replace(
        _merge(known, now),
        kind=kind,
        state=now.state or known.state,
        mtu=now.mtu or known.mtu,
        addresses=now.addresses,
        master=now.master,
        vlan_id=now.vlan_id if now.vlan_id is not None else known.vlan_id,
        parent=known.parent or now.parent,
    )


def list_interfaces(conn, *, local) -> list[HostIface]:
    """The host's interfaces. `local`: the host is this machine, so `ip` and sysfs describe it."""
    found = from_node_devices(conn)
    for name, iface in from_libvirt_interfaces(conn).items():
        found[name] = _merge(found[name], iface) if name in found else iface
    if local:
        ip = from_ip(_ip_json("-d", "link"), _ip_json("addr"))
        if ip:  # the machine as it is now: what libvirt lists and ip does not is gone
            found = {name: _now(found.get(name), now) for name, now in ip.items()}
            found = {
                name: i if i.speed_mbps is not None else replace(i, speed_mbps=read_speed(name))
                for name, i in found.items()
            }
    return sorted(found.values(), key=lambda i: i.name)
