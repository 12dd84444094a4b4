"""Which network XML a user may define: everything of libvirt's network schema that kvmweb knows,
and nothing else.

The check walks the document against an allow-list of element paths and their attributes
(libvirt 9's network.rng), rather than looking for bad strings. So an unknown element, a typo
libvirt would silently drop, and every element of a foreign namespace is refused with its name.
That matters for <dnsmasq:options>: its options go straight into the dnsmasq that libvirt runs as
root for the network (dhcp-script= runs a program), so no one may define it through kvmweb.
<ip><tftp root='…'/> makes dnsmasq serve that host directory to every guest: only someone who may
manage the host may set it. <metadata> is kept as it is: libvirt stores it and never acts on it.

No Django here: the Celery worker calls this again, without a request, before it defines.
"""

from lxml import etree

from apps.core.xml import XMLError, XMLObject, parse

DNSMASQ_NS = "http://libvirt.org/schemas/network/dnsmasq/1.0"

_VLAN = {"vlan": {"trunk"}, "vlan/tag": {"id", "nativeMode"}}
_BANDWIDTH = {
    "bandwidth": set(),
    "bandwidth/inbound": {"average", "peak", "floor", "burst"},
    "bandwidth/outbound": {"average", "peak", "floor", "burst"},
}
_VIRTUALPORT = {
    "virtualport": {"type"},
    "virtualport/parameters": {"managerid", "typeid", "typeidversion", "instanceid", "profileid", "interfaceid"},
}
_LEASE = {"expiry", "unit"}


def _under(prefix, table):
    return {f"{prefix}/{path}": attrs for path, attrs in table.items()}


# Element path below the root -> the attributes it may carry ("" is <network> itself).
ALLOWED = {
    "": {"connections", "ipv6", "trustGuestRxFilters"},
    "name": set(),
    "uuid": set(),
    "title": set(),
    "description": set(),
    "metadata": set(),  # its content is left alone (see the module's docstring)
    "forward": {"dev", "mode", "managed"},
    "forward/interface": {"dev", "connections"},
    "forward/address": {"type", "domain", "bus", "slot", "function", "connections"},
    "forward/pf": {"dev"},
    "forward/driver": {"name"},
    "forward/nat": {"ipv6"},
    "forward/nat/address": {"start", "end"},
    "forward/nat/port": {"start", "end"},
    "bridge": {"name", "zone", "stp", "delay", "macTableManager"},
    "mtu": {"size"},
    "mac": {"address"},
    "domain": {"name", "localOnly"},
    "dns": {"enable", "forwardPlainNames"},
    "dns/forwarder": {"addr", "domain"},
    "dns/txt": {"name", "value"},
    "dns/srv": {"service", "protocol", "domain", "target", "port", "priority", "weight"},
    "dns/host": {"ip"},
    "dns/host/hostname": set(),
    **_VLAN,
    **_BANDWIDTH,
    "port": {"isolated"},
    "ip": {"address", "netmask", "prefix", "family", "localPtr"},
    "ip/tftp": {"root"},
    "ip/dhcp": set(),
    "ip/dhcp/range": {"start", "end"},
    "ip/dhcp/range/lease": _LEASE,
    "ip/dhcp/host": {"mac", "id", "name", "ip"},
    "ip/dhcp/host/lease": _LEASE,
    "ip/dhcp/bootp": {"file", "server"},
    "route": {"family", "address", "netmask", "prefix", "gateway", "metric"},
    **_VIRTUALPORT,
    "portgroup": {"name", "default", "trustGuestRxFilters"},
    **_under("portgroup", _VLAN),
    **_under("portgroup", _BANDWIDTH),
    **_under("portgroup", _VIRTUALPORT),
}
OPAQUE = {"metadata"}
HOST_MANAGER_ONLY = {
    "ip/tftp": "<ip><tftp root='…'> makes the network's dnsmasq serve a directory of the host to every guest; "
    "only someone who may manage the host may set it.",
}


def _qualified(el):
    """'dnsmasq:options' for a namespaced element, as the person wrote it; else its tag."""
    qname = etree.QName(el)
    if qname.namespace is None:
        return qname.localname
    return f"{el.prefix}:{qname.localname}" if el.prefix else f"{{{qname.namespace}}}{qname.localname}"


def _foreign(el, where):
    namespace = etree.QName(el).namespace
    if namespace == DNSMASQ_NS:
        return (
            f"<{_qualified(el)}> is not accepted: dnsmasq options pass straight to the dnsmasq that libvirt "
            "runs as root for the network (one can make it run a program). Remove it."
        )
    return f"<{_qualified(el)}> in {where} is not accepted: elements of other XML namespaces ({namespace}) are not part of libvirt's network format."


def _walk(el, path, host_manager, found):
    where = f"<{path or 'network'}>"
    for key in el.attrib:
        if key.startswith("{"):
            found.append(
                f"The attribute {key} on {where} is not accepted: attributes of other namespaces are not libvirt's."
            )
        elif key not in ALLOWED[path]:
            found.append(f"The attribute {key}= on {where} is not one kvmweb accepts; remove it.")
    if path in HOST_MANAGER_ONLY and not host_manager:
        found.append(HOST_MANAGER_ONLY[path])
    if path in OPAQUE:
        return
    for child in el:
        if child.tag is etree.Comment:
            continue
        if not isinstance(child.tag, str):
            found.append(f"{where} holds a processing instruction or entity; libvirt's network format has none.")
            continue
        if etree.QName(child).namespace is not None:
            found.append(_foreign(child, where))
            continue
        child_path = f"{path}/{child.tag}" if path else child.tag
        if child_path not in ALLOWED:
            found.append(
                f"<{child.tag}> in {where} is not part of libvirt's network format as kvmweb knows it; remove it."
            )
            continue
        _walk(child, child_path, host_manager, found)


def problems(xml_or_root, *, host_manager: bool) -> list[str]:
    """What in a network definition kvmweb refuses, one sentence each; empty when it may be
    defined. Takes the XML text, its root element, or a typed Network."""
    if isinstance(xml_or_root, XMLObject):
        root = xml_or_root.el
    elif etree.iselement(xml_or_root):
        root = xml_or_root
    else:
        try:
            root = parse(xml_or_root)
        except XMLError as exc:
            return [f"The definition is not readable: {exc}."]
    if not isinstance(root.tag, str) or etree.QName(root).localname != "network" or etree.QName(root).namespace:
        name = _qualified(root) if isinstance(root.tag, str) else "?"
        return [f"The definition is a <{name}>; a network is defined by a <network> document."]
    found = []
    _walk(root, "", host_manager, found)
    return found
