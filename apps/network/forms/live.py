"""What libvirt changes in a running network at once (networkUpdate), besides static DHCP hosts
(dhcp.py): a DHCP range, a DNS host, a portgroup. Each form checks like the create forms do and
gives the one element networkUpdate takes (`to_xml`); `section` names libvirt's section."""

import ipaddress

from django import forms

from apps.accounts.forms import Styled
from apps.network.virt.network_xml import dhcp_range_xml, dns_host_xml, portgroup_xml

from .checks import range_problems
from .dhcp import _interfaces
from .fields import MAX_VLAN, PORTGROUP_RE, validate_dns_name


class DhcpRangeForm(Styled, forms.Form):
    section = "dhcp_range"
    start = forms.GenericIPAddressField(protocol="IPv4", label="Range start")
    end = forms.GenericIPAddressField(protocol="IPv4", label="Range end")

    def __init__(self, data=None, *, subnet_cidrs, **kwargs):
        super().__init__(data, **kwargs)
        self.subnets = [s for s in _interfaces(subnet_cidrs) if s.version == 4]

    def clean(self):
        data = super().clean()
        if not (data.get("start") and data.get("end")):
            return data
        if not self.subnets:
            raise forms.ValidationError("The network has no IPv4 address, so DHCP has no subnet to serve.")
        start = ipaddress.ip_address(data["start"])
        iface = next((s for s in self.subnets if start in s.network), self.subnets[0])
        for field, message in range_problems(iface, data["start"], data["end"]).items():
            self.add_error(field, message)
        return data

    def to_xml(self):
        return dhcp_range_xml(start=self.cleaned_data["start"], end=self.cleaned_data["end"])

    def summary(self):
        return f"DHCP range {self.cleaned_data['start']}–{self.cleaned_data['end']}"


class DnsHostForm(Styled, forms.Form):
    section = "dns_host"
    ip = forms.GenericIPAddressField(label="Address")
    hostnames = forms.CharField(max_length=500, label="Names", help_text="One or more, separated by spaces.")

    def clean_hostnames(self):
        names = self.cleaned_data["hostnames"].split()
        if not names:
            raise forms.ValidationError("Give at least one name.")
        for name in names:
            validate_dns_name(name)
        return names

    def to_xml(self):
        return dns_host_xml(ip=self.cleaned_data["ip"], hostnames=self.cleaned_data["hostnames"])

    def summary(self):
        return f"DNS host {self.cleaned_data['ip']} ({' '.join(self.cleaned_data['hostnames'])})"


class PortgroupForm(Styled, forms.Form):
    section = "portgroup"
    name = forms.CharField(max_length=50, label="Portgroup")
    vlan = forms.IntegerField(required=False, min_value=0, max_value=MAX_VLAN, label="VLAN tag")
    default = forms.BooleanField(required=False, label="Default for NICs that name none")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not PORTGROUP_RE.fullmatch(name):
            raise forms.ValidationError(f"{name!r} is not a portgroup name: letters, digits and . _ - only.")
        return name

    def to_xml(self):
        vlan = self.cleaned_data.get("vlan")
        return portgroup_xml(
            name=self.cleaned_data["name"],
            default=bool(self.cleaned_data.get("default")),
            vlan_ids=() if vlan is None else (vlan,),
        )

    def summary(self):
        return f"portgroup {self.cleaned_data['name']}"


LIVE_FORMS = {"dhcp_range": DhcpRangeForm, "dns_host": DnsHostForm, "portgroup": PortgroupForm}


def live_form(section, net, data=None):
    """The form for one section of `net` (a VirtualNetwork row)."""
    form_class = LIVE_FORMS[section]
    if form_class is DhcpRangeForm:
        return form_class(data, subnet_cidrs=net.addresses, prefix=section)
    return form_class(data, prefix=section)


def removal_xml(section, net, key):
    """The element of an existing entry, named by its key (a range's start, a DNS host's address,
    a portgroup's name), for a delete; None when the network has no such entry."""
    if section == "dhcp_range":
        found = next((r for r in net.dhcp_ranges if r["start"] == key), None)
        return found and (
            dhcp_range_xml(start=found["start"], end=found["end"]),
            f"DHCP range {found['start']}–{found['end']}",
        )
    if section == "dns_host":
        found = next((h for h in net.dns_hosts if h["ip"] == key), None)
        return found and (dns_host_xml(ip=found["ip"], hostnames=found["hostnames"]), f"DNS host {found['ip']}")
    if section == "portgroup":
        found = next((p for p in net.portgroups if p["name"] == key), None)
        return found and (portgroup_xml(name=found["name"]), f"portgroup {found['name']}")
    return None
