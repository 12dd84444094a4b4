"""The checks a network must pass before kvmweb asks libvirt to define it, shared by the mode
forms, the define-from-XML form and the static DHCP host form, so that pasting XML is no way
around them. Each returns the message for a person (empty when all is well); the caller puts it
on the field it belongs to."""

import ipaddress


def name_problem(name, taken):
    if taken is not None and name in taken.names:
        return f"A network named {name} exists on this host already; choose another name."
    return ""


def bridge_problem(bridge, taken, host_interfaces=()):
    """A bridge libvirt is to create must not be another network's bridge or a host interface."""
    if taken is not None and bridge in taken.bridges:
        return f"Bridge {bridge} is in use on this host already; choose another name (e.g. virbr10)."
    if bridge in host_interfaces:
        return f"The host has an interface called {bridge} already; choose another bridge name."
    return ""


def _hosts(network):
    """First and last usable address, for messages."""
    if network.num_addresses <= 2:
        return network[0], network[-1]
    return network[1], network[-2]


def _special(address, network):
    """The subnet's own address or (IPv4) its broadcast address, which no host may take."""
    if network.num_addresses <= 2:
        return ""
    if address == network.network_address:
        return "network address"
    if network.version == 4 and address == network.broadcast_address:
        return "broadcast address"
    return ""


def subnet_problem(iface, taken):
    """The bridge address `iface` (an ip_interface) must be a host address of a subnet no other
    network on the host uses."""
    network = iface.network
    special = _special(iface.ip, network)
    if special:
        first, _ = _hosts(network)
        return f"{iface.ip} is the {special} of {network}; give the bridge a host address such as {first}."
    for owner, other in taken.subnets if taken is not None else ():
        if other.version == network.version and network.overlaps(other):
            return f"{network} overlaps {other} of network {owner} on this host; choose a subnet that does not."
    return ""


def range_problems(iface, start, end):
    """A DHCP range must lie in the bridge's subnet, run upwards, and leave out the bridge's own
    address. Returns {"start"|"end": message}."""
    network = iface.network
    first, last = _hosts(network)
    found = {}
    for key, text in (("start", start), ("end", end)):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            found[key] = f"{text!r} is not an IP address."
            continue
        if address.version != network.version or address not in network:
            found[key] = f"{address} is outside the subnet {network}; use an address from {first} to {last}."
        elif _special(address, network):
            found[key] = f"{address} is the {_special(address, network)} of {network}; use one from {first} to {last}."
    if found:
        return found
    start, end = ipaddress.ip_address(start), ipaddress.ip_address(end)
    if start > end:
        return {"end": f"The range ends at {end}, before it starts at {start}; swap the two."}
    if start <= iface.ip <= end:
        return {
            "start": f"The range {start}–{end} includes the bridge's own address {iface.ip}; start it after it or end it before."
        }
    return {}


def dhcpv6_prefix_problem(prefix):
    if prefix != 64:
        return f"DHCPv6 in libvirt needs an IPv6 prefix of 64 (dnsmasq serves no other); use /64 instead of /{prefix}, or leave DHCPv6 out."
    return ""


def dhcp_host_problems(mac, ip, name, *, subnets, existing):
    """A static DHCP host: its IPv4 address in one of the network's subnets (ip_interface values)
    and not the bridge's own, and no MAC, address or name that another static host has.
    `existing`: {"mac", "ip", "name"} dicts. Returns {"mac"|"ip"|"name": message}."""
    found = {}
    address = ipaddress.ip_address(ip)
    inside = [s for s in subnets if s.version == address.version and address in s.network]
    if not inside:
        family = f"IPv{address.version}"
        where = ", ".join(str(s.network) for s in subnets if s.version == address.version) or "none"
        found["ip"] = f"{address} is not in the network's {family} subnets ({where}); give an address inside one."
    elif address == inside[0].ip:
        found["ip"] = f"{address} is the bridge's own address; give the host another one."
    elif _special(address, inside[0].network):
        found["ip"] = (
            f"{address} is the {_special(address, inside[0].network)} of {inside[0].network}; give a host address."
        )
    for row in existing:
        if mac and (row.get("mac") or "").lower() == mac and "mac" not in found:
            found["mac"] = f"{mac} already has a static address ({row.get('ip')}); remove that entry first."
        if row.get("ip") == str(address) and "ip" not in found:
            found["ip"] = f"{address} is already given to {row.get('mac') or row.get('name')}; choose another address."
        if name and (row.get("name") or "").lower() == name.lower() and "name" not in found:
            found["name"] = (
                f"The name {name} is already used by {row.get('mac') or row.get('ip')}; choose another name."
            )
    return found
