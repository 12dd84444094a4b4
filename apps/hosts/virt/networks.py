"""A read-only list of the host's libvirt virtual networks for the host page.

There is no network app yet; when it comes it will own networks (define, start, edit). Until
then the monitor keeps this small summary on the Host row, so the page makes no libvirt call.
"""

from dataclasses import asdict, dataclass

import libvirt

from apps.core.errors import from_libvirt

from .network_xml import Network


@dataclass(frozen=True)
class NetworkSummary:
    name: str
    active: bool
    autostart: bool
    persistent: bool
    forward: str  # nat, route, open, bridge, … or "isolated" when there is no <forward>
    bridge: str
    addresses: tuple[str, ...]

    def as_dict(self):
        return {**asdict(self), "addresses": list(self.addresses)}


def _summary(net):
    doc = Network.parse(net.XMLDesc(0))
    return NetworkSummary(
        name=net.name(),
        active=bool(net.isActive()),
        autostart=bool(net.autostart()),
        persistent=bool(net.isPersistent()),
        forward=doc.mode,
        bridge=doc.bridge or "",
        addresses=tuple(ip.cidr for ip in doc.ips if ip.address),
    )


def list_networks(conn) -> list[NetworkSummary]:
    try:
        return sorted((_summary(n) for n in conn.listAllNetworks(0)), key=lambda s: s.name)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
