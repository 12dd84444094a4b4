"""The pieces of the network forms that read one value: names, interface names, MACs, and the
textareas of DNS hosts, forwarders and portgroups (one entry a line). Each error says what to
write instead."""

import ipaddress
import re

from django import forms
from django.core.exceptions import ValidationError

NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,49}")
IFNAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
DNS_NAME_RE = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
MAC_RE = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}")
PORTGROUP_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,49}")
IFNAMSIZ = 16  # Linux keeps interface names in 16 bytes with the NUL: 15 characters
MAX_VLAN = 4094


def validate_network_name(value):
    if not NAME_RE.fullmatch(value):
        raise ValidationError(
            "Use ASCII letters, digits and . _ - only, starting with a letter, digit or _, at most 50 "
            "characters (e.g. lab-nat); no quotes, spaces, slashes or accents."
        )


def validate_ifname(value):
    """A Linux interface name libvirt can create or use: a bridge, a NIC, a PF."""
    if len(value) > IFNAMSIZ - 1:
        raise ValidationError(
            f"{value!r} is {len(value)} characters; Linux interface names are at most 15. Shorten it."
        )
    if not IFNAME_RE.fullmatch(value) or value in (".", ".."):
        raise ValidationError(f"{value!r} is not an interface name: use letters, digits and . _ - only (e.g. virbr10).")


def validate_dns_name(value):
    if len(value) > 253 or not DNS_NAME_RE.fullmatch(value):
        raise ValidationError(f"{value!r} is not a DNS name: use letters, digits, - and dots (e.g. lab.example).")


def normalise_mac(value):
    """52-54-00-AA-00-01 -> 52:54:00:aa:00:01; ValidationError for anything that is not a unicast MAC."""
    mac = value.strip().lower()
    if not MAC_RE.fullmatch(mac):
        raise ValidationError(f"{value.strip()!r} is not a MAC address: write six hex pairs, e.g. 52:54:00:12:34:56.")
    mac = mac.replace("-", ":")
    if int(mac[:2], 16) & 1:
        raise ValidationError(f"{mac} is a multicast address; a NIC's MAC is unicast (e.g. 52:54:00:12:34:56).")
    return mac


def _lines(text):
    """(line number, words) of each line that is not blank or a # comment."""
    for number, line in enumerate((text or "").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if words:
            yield number, words


def parse_dns_hosts(text):
    """'ip hostname [hostname…]' per line -> [(ip, [hostnames])], one line per address."""
    hosts, seen = [], set()
    for number, words in _lines(text):
        try:
            ip = str(ipaddress.ip_address(words[0]))
        except ValueError:
            raise ValidationError(
                f"Line {number}: {words[0]!r} is not an IP address. Write 'ip name [name…]'."
            ) from None
        if len(words) < 2:
            raise ValidationError(f"Line {number}: give at least one host name after {ip}.")
        for name in words[1:]:
            try:
                validate_dns_name(name)
            except ValidationError as exc:
                raise ValidationError(f"Line {number}: {exc.messages[0]}") from None
        if ip in seen:
            raise ValidationError(f"Line {number}: {ip} is listed twice; put all its names on one line.")
        seen.add(ip)
        hosts.append((ip, list(dict.fromkeys(words[1:]))))
    return hosts


def parse_forwarders(text):
    """One DNS server address per line -> [address]."""
    found = []
    for number, words in _lines(text):
        if len(words) != 1:
            raise ValidationError(f"Line {number}: write one address per line (e.g. 192.0.2.53).")
        try:
            found.append(str(ipaddress.ip_address(words[0])))
        except ValueError:
            raise ValidationError(f"Line {number}: {words[0]!r} is not an IP address (e.g. 192.0.2.53).") from None
    return list(dict.fromkeys(found))


def parse_portgroups(text, *, vlans=True):
    """'name [vlan=N[,M…]] [default]' per line -> [{"name", "vlan_ids", "default"}]; several
    VLAN ids make a trunk. `vlans` False: the mode cannot tag, so vlan= is refused."""
    groups, names, default = [], set(), None
    for number, words in _lines(text):
        name, options = words[0], words[1:]
        if not PORTGROUP_RE.fullmatch(name):
            raise ValidationError(
                f"Line {number}: {name!r} is not a portgroup name: letters, digits and . _ - (e.g. vlan-10)."
            )
        if name in names:
            raise ValidationError(f"Line {number}: portgroup {name} is listed twice.")
        group = {"name": name, "vlan_ids": [], "default": False}
        for option in options:
            if option == "default":
                if default:
                    raise ValidationError(
                        f"Line {number}: {default} is already the default portgroup; keep one default."
                    )
                group["default"], default = True, name
            elif option.startswith("vlan=") and vlans:
                group["vlan_ids"] = _vlan_ids(option[5:], number)
            elif option.startswith("vlan="):
                raise ValidationError(f"Line {number}: this kind of network cannot tag VLANs; remove {option}.")
            else:
                raise ValidationError(f"Line {number}: {option!r} is not understood; write 'name [vlan=N] [default]'.")
        names.add(name)
        groups.append(group)
    return groups


def _vlan_ids(text, number):
    ids = []
    for part in text.split(","):
        if not part.isdigit() or int(part) > MAX_VLAN:
            raise ValidationError(f"Line {number}: VLAN {part!r} is not a number from 0 to {MAX_VLAN}.")
        ids.append(int(part))
    return list(dict.fromkeys(ids))


class InterfacesField(forms.Field):
    """Host interface names: picked from a list (several values) or typed ('eth1 eth2'). When the
    host's interfaces are known (`known`), only those are accepted."""

    def __init__(self, *, many=True, **kwargs):
        self.many = many
        self.known = ()
        super().__init__(**kwargs)

    def offer(self, names):
        """Show `names` as the choices (a typed field when there are none)."""
        self.known = tuple(names)
        if self.known:
            choices = [(n, n) for n in self.known]
            if self.many:
                self.widget = forms.SelectMultiple(choices=choices)
            else:
                self.widget = forms.Select(choices=[("", "—")] + choices)

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        names = [name for v in values if v for name in str(v).replace(",", " ").split()]
        names = list(dict.fromkeys(names))
        if self.many:
            return names
        if len(names) > 1:
            raise ValidationError(f"Give one interface name, not {len(names)}.")
        return names[0] if names else ""

    def validate(self, value):
        super().validate(value)
        names = value if self.many else [value] if value else []
        for name in names:
            validate_ifname(name)
            if self.known and name not in self.known:
                raise ValidationError(f"This host has no interface {name}; pick one of {', '.join(self.known)}.")
