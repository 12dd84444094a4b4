"""A static DHCP host (MAC -> IPv4 address -> name), added to a network live through
networkUpdate. The same MAC, address or name twice would make dnsmasq hand out one of them at
random, so duplicates are refused here with the entry that has them."""

import ipaddress
import re

from django import forms

from apps.accounts.forms import Styled
from apps.network.virt.network_xml import dhcp_host_xml

from .checks import dhcp_host_problems
from .fields import normalise_mac

HOSTNAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _interfaces(cidrs):
    found = []
    for cidr in cidrs or ():
        try:
            found.append(ipaddress.ip_interface(cidr))
        except ValueError:
            continue  # an address libvirt wrote that we cannot read gives no subnet to match
    return found


class DhcpHostForm(Styled, forms.Form):
    mac = forms.CharField(max_length=17, label="MAC address", help_text="The guest NIC's MAC, e.g. 52:54:00:12:34:56.")
    ip = forms.GenericIPAddressField(
        protocol="IPv4",
        label="IP address",
        help_text="The IPv4 address it always gets, inside the network's subnet.",
        error_messages={"invalid": "Enter an IPv4 address, e.g. 10.10.0.20."},
    )
    name = forms.CharField(
        required=False, max_length=63, label="Host name", help_text="Optional: the name DHCP gives it (e.g. web1)."
    )

    def __init__(self, data=None, *, subnet_cidrs, existing, **kwargs):
        super().__init__(data, **kwargs)
        self.subnets = _interfaces(subnet_cidrs)
        self.existing = list(existing or ())

    def clean_mac(self):
        return normalise_mac(self.cleaned_data["mac"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if name and not HOSTNAME_RE.fullmatch(name):
            raise forms.ValidationError(
                f"{name!r} is not a host name: letters, digits and - only, not at either end (e.g. web1)."
            )
        return name

    def clean(self):
        data = super().clean()
        if not data.get("ip"):
            return data
        found = dhcp_host_problems(
            data.get("mac"), data["ip"], data.get("name"), subnets=self.subnets, existing=self.existing
        )
        for field, message in found.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data

    def to_xml(self) -> str:
        """The <host mac= name= ip=/> element networkUpdate takes (section ip-dhcp-host)."""
        if not self.is_valid():
            raise ValueError("The form has errors; it gives no XML.")
        data = self.cleaned_data
        return dhcp_host_xml(mac=data["mac"], ip=data["ip"], name=data["name"] or None)
