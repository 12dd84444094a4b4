"""A running guest's IP addresses: from the QEMU guest agent where there is one, else from the
DHCP leases of the libvirt networks its NICs are on (`virsh domifaddr --source agent|lease`)."""

from dataclasses import dataclass, field

import libvirt

from apps.core.errors import from_libvirt

FAMILIES = {libvirt.VIR_IP_ADDR_TYPE_IPV4: "IPv4", libvirt.VIR_IP_ADDR_TYPE_IPV6: "IPv6"}
SOURCES = {
    "agent": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
    "lease": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
}


@dataclass(frozen=True)
class Address:
    interface: str
    hwaddr: str
    family: str
    address: str
    prefix: int


@dataclass
class Addresses:
    source: str = ""  # "agent", "lease", or "" when neither answered
    addresses: list[Address] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a source gave nothing, in plain words


def _read(dom, source):
    found = []
    for ifname, iface in sorted((dom.interfaceAddresses(SOURCES[source], 0) or {}).items()):
        if ifname == "lo":
            continue  # the agent also reports the guest's loopback
        for addr in iface.get("addrs") or []:
            found.append(
                Address(
                    interface=ifname,
                    hwaddr=iface.get("hwaddr") or "",
                    family=FAMILIES.get(addr.get("type"), "?"),
                    address=addr.get("addr", ""),
                    prefix=addr.get("prefix", 0),
                )
            )
    return found


def interface_addresses(conn, uuid) -> Addresses:
    """Ask the guest agent first; without an answer from it, the DHCP leases. Says which source
    answered, and why the others did not."""
    result = Addresses()
    try:
        dom = conn.lookupByUUIDString(uuid)
        running = dom.isActive()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if not running:
        result.notes.append("The VM is not running: it has no addresses.")
        return result
    try:
        result.addresses = _read(dom, "agent")
        result.source = "agent"
        if not result.addresses:
            result.notes.append("The guest agent reports no addresses besides loopback.")
        return result
    except libvirt.libvirtError as exc:
        result.notes.append(f"No answer from a guest agent: {from_libvirt(exc)}")
    try:
        result.addresses = _read(dom, "lease")
        result.source = "lease"
    except libvirt.libvirtError as exc:
        result.notes.append(f"DHCP leases could not be read: {from_libvirt(exc)}")
        return result
    if not result.addresses:
        result.notes.append(
            "No DHCP lease yet: the guest has not asked for an address, or its NICs are not on a "
            "libvirt network that hands them out."
        )
    return result
