"""A domain's NICs (`virsh domiflist` plus link state and MAC), add, remove, link up/down; and the
host's libvirt networks and interfaces for the add form (there is no network app to ask yet)."""

from dataclasses import dataclass

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .disks import _flags
from .domains import lookup
from .xml import Domain, Interface, NodeDevice


@dataclass(frozen=True)
class NicInfo:
    type: str  # libvirt's interface type: network, bridge, direct, user, …
    kind: str  # as the form names it: network, bridge, ovs, direct, or the libvirt type
    source: str
    mode: str
    model: str
    mac: str
    link: str  # "up" or "down"
    target: str  # the host-side device (vnet0, macvtap0) while running


def _nic(iface: Interface) -> NicInfo:
    return NicInfo(
        type=iface.type or "",
        kind=iface.kind,
        source=iface.source_name,
        mode=(iface.mode or "") if iface.type == "direct" else "",
        model=iface.model or "",
        mac=iface.mac or "",
        link=iface.link or "up",
        target=iface.target or "",
    )


def _domain(dom, inactive) -> Domain:
    try:
        return Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def list_nics(conn, uuid, *, inactive=False) -> list[NicInfo]:
    return [_nic(iface) for iface in _domain(lookup(conn, uuid), inactive).interfaces]


def attach(conn, uuid, iface: Interface, *, live, config):
    """`virsh attach-interface` with --live and/or --config; returns the MAC libvirt gave it (its
    own choice when none was asked for), found as the one NIC that was not there before."""
    dom = lookup(conn, uuid)
    inactive = not live
    before = {n.mac for n in list_nics(conn, uuid, inactive=inactive)}
    try:
        dom.attachDeviceFlags(iface.to_xml(), _flags(live, config))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if iface.mac:
        return iface.mac
    new = [n.mac for n in list_nics(conn, uuid, inactive=inactive) if n.mac not in before]
    return new[0] if new else ""


def _each_scope(dom, mac, live, config):
    """(flag, Interface, where) for the running domain and/or the saved definition: each gets the
    element libvirt itself holds for that MAC there, so nothing about the NIC needs to be guessed."""
    _flags(live, config)
    scopes = []
    if live:
        scopes.append((libvirt.VIR_DOMAIN_AFFECT_LIVE, _domain(dom, False).interface(mac), "running VM"))
    if config:
        scopes.append((libvirt.VIR_DOMAIN_AFFECT_CONFIG, _domain(dom, True).interface(mac), "saved configuration"))
    for _flag, iface, where in scopes:
        if iface is None:
            raise VirtError(f"the {where} has no NIC with MAC {mac}")
    return scopes


def detach(conn, uuid, mac, *, live, config):
    dom = lookup(conn, uuid)
    for flag, iface, _where in _each_scope(dom, mac, live, config):
        try:
            dom.detachDeviceFlags(iface.to_xml(), flag)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None


def set_link(conn, uuid, mac, state, *, live, config):
    """`virsh domif-setlink`: the cable plugged in (up) or pulled out (down); the guest sees it."""
    if state not in ("up", "down"):
        raise VirtError("link state is up or down")
    dom = lookup(conn, uuid)
    for flag, iface, _where in _each_scope(dom, mac, live, config):
        iface.link = state
        try:
            dom.updateDeviceFlags(iface.to_xml(), flag)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None


def host_interfaces(conn) -> list[str]:
    """Names of the host's network interfaces libvirt knows as node devices (for macvtap and
    bridge suggestions); empty when the driver cannot tell."""
    try:
        devices = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)
    except libvirt.libvirtError:
        return []
    names = []
    for dev in devices:
        try:
            name = NodeDevice.parse(dev.XMLDesc(0)).interface
        except libvirt.libvirtError:
            continue
        if name:
            names.append(name)
    return sorted(set(names))
