"""Virtual network adapters: plain dataclasses out, VirtError with libvirt's words for refusals."""

from dataclasses import dataclass, field

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .network_xml import Network


@dataclass(frozen=True)
class NetworkInfo:
    uuid: str
    name: str
    forward_mode: str  # nat, route, open, bridge, private, vepa, passthrough, hostdev, or isolated
    bridge: str
    openvswitch: bool
    active: bool
    autostart: bool
    persistent: bool
    addresses: list = field(default_factory=list)
    dhcp_ranges: list = field(default_factory=list)
    dhcp_hosts: list = field(default_factory=list)
    devices: list = field(default_factory=list)
    portgroups: list = field(default_factory=list)
    dns_hosts: list = field(default_factory=list)


def summary(xml) -> dict:
    """The inventory's fields of a network definition (everything but its state)."""
    doc = Network.parse(xml)
    return {
        "forward_mode": doc.mode,
        "bridge": doc.bridge or "",
        "openvswitch": doc.virtualport_type == "openvswitch",
        "addresses": [ip.cidr for ip in doc.ips if ip.address],
        "dhcp_ranges": [{"start": r.start, "end": r.end} for ip in doc.ips for r in ip.dhcp_ranges],
        "dhcp_hosts": [
            {"mac": (h.mac or "").lower(), "ip": h.ip or "", "name": h.name or ""}
            for ip in doc.ips
            for h in ip.dhcp_hosts
        ],
        "devices": doc.forward_devices,
        "portgroups": [{"name": p.name, "vlan": p.vlan_tag, "default": bool(p.default)} for p in doc.portgroups],
        "dns_hosts": [
            {"ip": h.ip, "hostnames": list(h.hostnames)} for h in (doc.dns.hosts if doc.dns is not None else [])
        ],
    }


def _info(net) -> NetworkInfo:
    return NetworkInfo(
        uuid=net.UUIDString(),
        name=net.name(),
        active=bool(net.isActive()),
        autostart=bool(net.autostart()),
        persistent=bool(net.isPersistent()),
        **summary(net.XMLDesc(0)),
    )


def list_networks(conn) -> list[NetworkInfo]:
    try:
        nets = conn.listAllNetworks(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for net in nets:
        try:
            infos.append(_info(net))
        except libvirt.libvirtError:
            continue  # undefined while we looked; its event or the next pass settles it
    return sorted(infos, key=lambda i: i.name)


def _lookup(conn, uuid):
    try:
        return conn.networkLookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def network_info(conn, uuid) -> NetworkInfo | None:
    try:
        return _info(conn.networkLookupByUUIDString(uuid))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            return None
        raise from_libvirt(exc) from None


def network_xml(conn, uuid, *, inactive=False) -> str:
    """The running definition, or (inactive) the persistent one an edit starts from."""
    net = _lookup(conn, uuid)
    try:
        if inactive and net.isActive() and net.isPersistent():
            try:
                return net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                    raise
        return net.XMLDesc(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def define(conn, xml) -> str:
    """Define (or, for an existing name and UUID, redefine) a persistent network; its UUID."""
    try:
        return conn.networkDefineXML(xml).UUIDString()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


ACTIONS = {
    "start": lambda net: net.create(),
    "stop": lambda net: net.destroy(),
    "autostart_on": lambda net: net.setAutostart(1),
    "autostart_off": lambda net: net.setAutostart(0),
    "undefine": lambda net: net.undefine(),
}


def act(conn, uuid, action):
    if action not in ACTIONS:
        raise VirtError(f"unknown network action {action!r}")
    try:
        ACTIONS[action](_lookup(conn, uuid))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def delete(conn, uuid):
    """Stop the network if it runs, then remove its definition."""
    net = _lookup(conn, uuid)
    try:
        if net.isActive():
            net.destroy()
        if net.isPersistent():
            net.undefine()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine_quietly(conn, uuid):
    """Remove a definition left by a failed create, so nothing stays half-defined."""
    try:
        net = conn.networkLookupByUUIDString(uuid)
        if net.isActive():
            net.destroy()
        net.undefine()
    except libvirt.libvirtError:
        pass


SECTIONS = {
    "dhcp_host": libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
    "dhcp_range": libvirt.VIR_NETWORK_SECTION_IP_DHCP_RANGE,
    "dns_host": libvirt.VIR_NETWORK_SECTION_DNS_HOST,
    "portgroup": libvirt.VIR_NETWORK_SECTION_PORTGROUP,
}
COMMANDS = {
    "add": libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
    "delete": libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
    "modify": libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
}


def update(conn, uuid, *, command, section, xml, ip_index=-1):
    """virsh net-update: change one element of a network, live when it runs and in its saved
    definition when it has one."""
    net = _lookup(conn, uuid)
    try:
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG if net.isPersistent() else 0
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        net.update(COMMANDS[command], SECTIONS[section], ip_index, xml, flags)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def leases(conn, uuid) -> list[dict] | None:
    """The network's DHCP leases, or None where the driver keeps none (the test driver)."""
    net = _lookup(conn, uuid)
    try:
        if not net.isActive():
            return []
        rows = net.DHCPLeases()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise from_libvirt(exc) from None
    return sorted(
        (
            {
                "mac": (r.get("mac") or "").lower(),
                "ip": f"{r.get('ipaddr')}/{r.get('prefix')}",
                "hostname": r.get("hostname") or "",
                "expires": int(r.get("expirytime") or 0),
            }
            for r in rows
        ),
        key=lambda r: r["ip"],
    )


def users(conn, uuid) -> dict[str, str]:
    """The running domains plugged into the network (uuid -> name), as libvirt sees them now:
    its ports where the driver keeps them, else each running domain's NICs."""
    from .port_xml import DomainNics, NetworkPort

    net = _lookup(conn, uuid)
    try:
        if not net.isActive():
            return {}  # a stopped network holds nobody (libvirt lists no ports of it)
        name = net.name()
        try:
            ports = [NetworkPort.parse(p.XMLDesc(0)) for p in net.listAllPorts(0)]
            return {p.owner_uuid: p.owner_name for p in ports if p.owner_uuid}
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                raise
        found = {}
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            doc = DomainNics.parse(dom.XMLDesc(0))
            if any(n.type == "network" and n.network == name for n in doc.nics):
                found[doc.uuid] = doc.name
        return found
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def force_off(conn, uuid):
    """Pull the plug of a domain that holds a network about to be deleted (the person confirmed)."""
    try:
        dom = conn.lookupByUUIDString(uuid)
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
