"""What the forms of every forward mode share: the fields, the checks, and building the <network>.

The base declares every field once; each mode's form (create.py) names the ones it takes
(FIELDS), so a field reads and checks the same in every mode and a mode offers only what libvirt
accepts for it (no <ip> on a host bridge, no VLAN on NAT, no QoS over macvtap). The XML is
built with the typed classes of apps/network/virt/network_xml.py, never from strings.
"""

import ipaddress

from django import forms

from apps.accounts.forms import Styled
from apps.network.virt.network_xml import (
    Bandwidth,
    DhcpRange,
    Dns,
    DnsForwarder,
    DnsHost,
    Forward,
    Network,
    NetworkIP,
    Portgroup,
    Rate,
    Vlan,
)

from .checks import bridge_problem, dhcpv6_prefix_problem, name_problem, range_problems, subnet_problem
from .fields import (
    MAX_VLAN,
    InterfacesField,
    parse_dns_hosts,
    parse_forwarders,
    parse_portgroups,
    validate_dns_name,
    validate_ifname,
    validate_network_name,
)

MAX_RATE = 2**32 - 1  # libvirt keeps rates and bursts as unsigned ints
QOS_FIELDS = tuple(f"{way}_{what}" for way in ("inbound", "outbound") for what in ("average", "peak", "burst"))
IPV4_FIELDS = ("ipv4_address", "ipv4_prefix", "dhcp_start", "dhcp_end")
IPV6_FIELDS = ("ipv6_address", "ipv6_prefix", "dhcpv6_start", "dhcpv6_end")
DNS_FIELDS = ("domain", "dns_hosts", "dns_forwarders")


def _address(protocol, label, help_text):
    return forms.GenericIPAddressField(
        protocol=protocol,
        required=False,
        label=label,
        help_text=help_text,
        error_messages={
            "invalid": f"Enter an {protocol} address, e.g. {'10.10.0.1' if protocol == 'IPv4' else 'fd00:10::1'}."
        },
    )


def _number(label, low, high, help_text, what, **kwargs):
    message = f"{what} is a whole number from {low} to {high}."
    return forms.IntegerField(
        required=False,
        min_value=low,
        max_value=high,
        label=label,
        help_text=help_text,
        error_messages={"min_value": message, "max_value": message, "invalid": message},
        **kwargs,
    )


def _rate(way, what):
    unit = "KiB" if what == "burst" else "KiB/s"
    label = f"{way.capitalize()} {what} ({unit})"
    help_text = {
        "average": f"Average {way} rate in KiB/s (e.g. 12500 for 100 Mbit/s).",
        "peak": f"Highest {way} rate in KiB/s, for short bursts; at least the average.",
        "burst": f"How many KiB may be sent {way} at peak speed in one burst.",
    }[what]
    return _number(label, 1, MAX_RATE, help_text, f"The {way} {what}")


def _lines(label, help_text, placeholder, rows=3):
    return forms.CharField(
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "spellcheck": "false", "placeholder": placeholder}),
    )


class NetworkForm(Styled, forms.Form):
    """Base of the per-mode forms: `mode` is the MODE_FORMS key, `label` and `help` describe it
    in the mode picker, FIELDS are the fields it shows (in order), REQUIRED the optional ones it
    needs, MANAGED that libvirt makes the bridge itself (and may run dnsmasq on it)."""

    mode = ""
    label = ""
    help = ""
    FIELDS: tuple = ()
    REQUIRED: tuple = ()
    MANAGED = False

    name = forms.CharField(
        max_length=50,
        validators=[validate_network_name],
        help_text="The network's name on the host: letters, digits and . _ - (e.g. lab-nat).",
        error_messages={"max_length": "Network names are at most 50 characters; shorten it."},
    )
    bridge = forms.CharField(
        required=False,
        max_length=64,
        validators=[validate_ifname],
        label="Bridge name",
        help_text="The Linux bridge libvirt creates, at most 15 characters (blank: libvirt picks virbrN).",
    )
    forward_dev = InterfacesField(
        many=False,
        required=False,
        label="Forward device",
        help_text="Send guests' traffic out only through this host interface (blank: any).",
    )
    interfaces = InterfacesField(
        label="Host interfaces", help_text="The host interfaces macvtap devices are made on (one or more)."
    )
    macvtap_mode = forms.ChoiceField(
        choices=[
            ("bridge", "Bridge: guests on one interface also reach each other"),
            ("vepa", "VEPA: all traffic goes to the external switch, guests meet there"),
            ("private", "Private: guests never reach each other"),
            ("passthrough", "Passthrough: one guest takes each interface whole"),
        ],
        initial="bridge",
        label="Macvtap mode",
    )
    pf = InterfacesField(
        many=False,
        required=False,
        label="Physical function",
        help_text="The SR-IOV card's PF; its virtual functions become the pool (or list VFs below).",
    )
    vf_addresses = _lines(
        "Virtual functions (PCI)",
        "Instead of a PF: the VFs' PCI addresses, one a line (lspci -D).",
        "0000:03:10.0\n0000:03:10.2",
    )
    ipv4_address = _address("IPv4", "IPv4 address", "The bridge's address on the guests' subnet, e.g. 10.10.0.1.")
    ipv4_prefix = _number("IPv4 prefix", 1, 30, "Subnet size: 24 is 255.255.255.0.", "The IPv4 prefix", initial=24)
    dhcp_start = _address("IPv4", "DHCP range start", "First address DHCP hands out (blank: no DHCP).")
    dhcp_end = _address("IPv4", "DHCP range end", "Last address DHCP hands out.")
    ipv6_address = _address("IPv6", "IPv6 address", "Optional: the bridge's IPv6 address, e.g. fd00:10::1.")
    ipv6_prefix = _number("IPv6 prefix", 1, 126, "64 for DHCPv6.", "The IPv6 prefix", initial=64)
    dhcpv6_start = _address("IPv6", "DHCPv6 range start", "First IPv6 address DHCPv6 hands out (needs prefix 64).")
    dhcpv6_end = _address("IPv6", "DHCPv6 range end", "Last IPv6 address DHCPv6 hands out.")
    domain = forms.CharField(
        required=False,
        max_length=253,
        validators=[validate_dns_name],
        label="DNS domain",
        help_text="Guests' names resolve as name.domain, answered here only (e.g. lab.example).",
    )
    dns_hosts = _lines("DNS hosts", "'address name [name…]', one address a line.", "10.10.0.5 db db.lab.example")
    dns_forwarders = _lines(
        "DNS forwarders", "Upstream DNS servers, one address a line (blank: the host's).", "192.0.2.53"
    )
    mtu = _number("MTU", 68, 65535, "Bridge MTU in bytes (blank: 1500).", "The MTU")
    vlan_tag = _number("VLAN tag", 0, MAX_VLAN, "Tag guests' traffic with this VLAN (blank: untagged).", "A VLAN tag")
    inbound_average = _rate("inbound", "average")
    inbound_peak = _rate("inbound", "peak")
    inbound_burst = _rate("inbound", "burst")
    outbound_average = _rate("outbound", "average")
    outbound_peak = _rate("outbound", "peak")
    outbound_burst = _rate("outbound", "burst")
    portgroups = _lines(
        "Portgroups",
        "'name [vlan=N] [default]', one a line; vlan=10,20 makes a trunk. A NIC picks one by name.",
        "vlan-10 vlan=10 default\nvlan-20 vlan=20",
    )

    def __init__(self, data=None, *, taken=None, host_interfaces=(), **kwargs):
        super().__init__(data, **kwargs)
        self.taken = taken
        self.host_interfaces = tuple(host_interfaces)
        for name in [n for n in self.fields if n not in self.FIELDS]:
            del self.fields[name]
        self.order_fields(self.FIELDS)
        for name in self.REQUIRED:
            self.fields[name].required = True
        for name in ("forward_dev", "interfaces", "pf"):
            if name in self.fields and self.host_interfaces:
                self.fields[name].offer(self.host_interfaces)
                self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    # -- one field at a time ------------------------------------------------------------------

    def clean_name(self):
        name = self.cleaned_data["name"]
        problem = name_problem(name, self.taken)
        if problem:
            raise forms.ValidationError(problem)
        return name

    def clean_bridge(self):
        bridge = self.cleaned_data["bridge"]
        if bridge and self.MANAGED:
            problem = bridge_problem(bridge, self.taken, self.host_interfaces)
            if problem:
                raise forms.ValidationError(problem)
        return bridge

    def clean_dns_hosts(self):
        return parse_dns_hosts(self.cleaned_data["dns_hosts"])

    def clean_dns_forwarders(self):
        return parse_forwarders(self.cleaned_data["dns_forwarders"])

    def clean_portgroups(self):
        return parse_portgroups(self.cleaned_data["portgroups"], vlans="vlan_tag" in self.fields)

    # -- fields together ----------------------------------------------------------------------

    def clean(self):
        data = super().clean()
        self._clean_ip(data, IPV4_FIELDS, "IPv4")
        self._clean_ip(data, IPV6_FIELDS, "IPv6")
        for way in ("inbound", "outbound"):
            self._clean_rate(data, way)
        return data

    def _clean_ip(self, data, names, family):
        address_name, prefix_name, start_name, end_name = names
        if address_name not in self.fields or address_name in self.errors:
            return
        address, prefix = data.get(address_name), data.get(prefix_name)
        start, end = data.get(start_name), data.get(end_name)
        if not address:
            for key in (start_name, end_name):
                if data.get(key):
                    self.add_error(
                        key, f"A DHCP range needs the network's {family} address: give it, or leave the range empty."
                    )
            return
        if prefix is None:
            if prefix_name not in self.errors:
                self.add_error(prefix_name, f"Give the {family} prefix length (e.g. {24 if family == 'IPv4' else 64}).")
            return
        iface = ipaddress.ip_interface(f"{address}/{prefix}")
        problem = subnet_problem(iface, self.taken)
        if problem:
            self.add_error(address_name, problem)  # and the range is still checked against it
        if start_name in self.errors or end_name in self.errors or not (start or end):
            return
        for key, value in ((start_name, start), (end_name, end)):
            if not value:
                self.add_error(key, "Give both ends of the DHCP range, or leave both empty.")
                return
        if family == "IPv6":
            problem = dhcpv6_prefix_problem(prefix)
            if problem:
                self.add_error(prefix_name, problem)
                return
        for which, message in range_problems(iface, start, end).items():
            self.add_error(start_name if which == "start" else end_name, message)

    def _clean_rate(self, data, way):
        if f"{way}_average" not in self.fields:
            return
        average, peak, burst = (data.get(f"{way}_{what}") for what in ("average", "peak", "burst"))
        if (peak or burst) and not average and f"{way}_average" not in self.errors:
            self.add_error(f"{way}_average", f"Give the {way} average too: libvirt needs it with a peak or burst.")
        elif peak and average and peak < average:
            self.add_error(
                f"{way}_peak", f"The {way} peak is below its average; make it at least {average} or leave it empty."
            )

    # -- the XML ------------------------------------------------------------------------------

    def network_name(self):
        return self.cleaned_data["name"]

    def forward(self, data):
        """The <forward> of this mode (None: isolated)."""
        return Forward(mode=self.mode, dev=data.get("forward_dev") or None)

    def to_network(self) -> Network:
        if not self.is_valid():
            raise ValueError("The form has errors; it gives no XML.")
        data = self.cleaned_data
        net = Network(name=data["name"], forward=self.forward(data))
        if self.MANAGED:
            net.set(bridge=data.get("bridge") or None, stp=True, delay=0)
        else:
            net.bridge = data.get("bridge") or None
        net.set(
            mtu=data.get("mtu"),
            domain_name=data.get("domain") or None,
            domain_local_only=True if data.get("domain") else None,
            dns=self._dns(data),
            vlan=Vlan.of(data["vlan_tag"]) if data.get("vlan_tag") is not None else None,
            bandwidth=self._bandwidth(data),
            ips=self._ips(data),
            portgroups=[
                Portgroup(
                    name=g["name"],
                    default=True if g["default"] else None,
                    vlan=Vlan.of(*g["vlan_ids"]) if g["vlan_ids"] else None,
                )
                for g in data.get("portgroups") or ()
            ],
        )
        return net

    def to_xml(self) -> str:
        return self.to_network().to_xml()

    def _dns(self, data):
        hosts, forwarders = data.get("dns_hosts") or [], data.get("dns_forwarders") or []
        if not hosts and not forwarders:
            return None
        return Dns(
            forwarders=[DnsForwarder(addr=a) for a in forwarders],
            hosts=[DnsHost(ip=ip, hostnames=names) for ip, names in hosts],
        )

    def _bandwidth(self, data):
        rates = {}
        for way in ("inbound", "outbound"):
            values = {what: data.get(f"{way}_{what}") for what in ("average", "peak", "burst")}
            if any(v is not None for v in values.values()):
                rates[way] = Rate(**values)
        return Bandwidth(**rates) if rates else None

    def _ips(self, data):
        ips = []
        for family, (address, prefix, start, end) in (("IPv4", IPV4_FIELDS), ("IPv6", IPV6_FIELDS)):
            if not data.get(address):
                continue
            ranges = [DhcpRange(start=data[start], end=data[end])] if data.get(start) else []
            ips.append(
                NetworkIP(
                    family="ipv6" if family == "IPv6" else None,
                    address=data[address],
                    prefix=data[prefix],
                    dhcp_ranges=ranges,
                )
            )
        return ips
