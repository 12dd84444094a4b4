""" "Define from XML" and "Edit XML": a pasted <network>, held to the rules of the mode forms.

The checks of checks.py run on what the document says (name, bridge, each <ip>'s subnet, DHCP
ranges and static hosts) and the allow-list of apps/network/policy.py runs on all of it, so XML
is no way around the forms. What is left is libvirt's to accept or refuse; its refusal ends the
operation failed, in libvirt's words.
"""

from django import forms

from apps.accounts.forms import Styled
from apps.core.xml import XMLError, parse
from apps.network.policy import problems
from apps.network.virt.network_xml import MANAGED_MODES, Network

from .checks import (
    bridge_problem,
    dhcp_host_problems,
    dhcpv6_prefix_problem,
    name_problem,
    range_problems,
    subnet_problem,
)
from .fields import normalise_mac, validate_ifname, validate_network_name

MAX_XML = 256 * 1024
EXAMPLE = """<network>
  <name>lab-isolated</name>
  <bridge name="virbr10"/>
  <ip address="10.10.0.1" prefix="24">
    <dhcp>
      <range start="10.10.0.100" end="10.10.0.199"/>
    </dhcp>
  </ip>
</network>"""


def _message(exc):
    return exc.messages[0] if isinstance(exc, forms.ValidationError) else str(exc)


def name_and_bridge_problems(net, taken):
    found = []
    name = net.name or ""
    if not name.strip():
        return ["A network needs a <name>."]
    try:
        validate_network_name(name)
    except forms.ValidationError as exc:
        found.append(f"Network name {name!r}: {_message(exc)}")
    found += [p for p in [name_problem(name, taken)] if p]
    if net.bridge:
        try:
            validate_ifname(net.bridge)
        except forms.ValidationError as exc:
            found.append(f"<bridge name>: {_message(exc)}")
        else:
            if net.mode in MANAGED_MODES:
                found += [p for p in [bridge_problem(net.bridge, taken)] if p]
    return found


def ip_problems(ip, taken):
    """The checks of the mode forms, for one <ip>: its subnet, DHCP ranges and static hosts."""
    iface = ip.interface
    where = f"<ip address='{ip.address}'>"
    if iface is None:
        return [f"{where} is not an address with a prefix or netmask libvirt can read."]
    found = [f"{where}: {p}" for p in [subnet_problem(iface, taken)] if p]
    if iface.version == 6 and (ip.dhcp_ranges or ip.dhcp_hosts):
        found += [f"{where}: {p}" for p in [dhcpv6_prefix_problem(iface.network.prefixlen)] if p]
    for r in ip.dhcp_ranges:
        found += [
            f"{where} DHCP range {r.start}–{r.end}: {m}"
            for m in range_problems(iface, r.start or "", r.end or "").values()
        ]
    seen = []
    for host in ip.dhcp_hosts:
        label = f"{where} DHCP host {host.mac or host.id or host.name}"
        mac = None
        if host.mac:
            try:
                mac = normalise_mac(host.mac)
            except forms.ValidationError as exc:
                found.append(f"{label}: {_message(exc)}")
                continue
        try:
            found += [
                f"{label}: {m}"
                for m in dhcp_host_problems(mac, host.ip or "", host.name, subnets=[iface], existing=seen).values()
            ]
        except ValueError:
            found.append(f"{label}: {host.ip!r} is not an IP address.")
        seen.append({"mac": mac, "ip": host.ip, "name": host.name})
    return found


class NetworkXMLForm(Styled, forms.Form):
    xml = forms.CharField(
        label="Network XML",
        max_length=MAX_XML,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 18, "spellcheck": "false", "class": "form-control font-monospace", "placeholder": EXAMPLE}
        ),
        help_text="A <network> document as virsh net-define takes it (virsh net-dumpxml gives one).",
        error_messages={"max_length": "That is more than 256 KiB; a network definition is far smaller."},
    )

    def __init__(self, data=None, *, taken, host_manager=False, **kwargs):
        super().__init__(data, **kwargs)
        self.taken = taken
        self.host_manager = host_manager
        self.network = None

    def clean_xml(self):
        try:
            root = parse(self.cleaned_data["xml"])
        except XMLError as exc:
            raise forms.ValidationError(f"The XML does not read: {exc}.") from None
        if root.tag != "network":
            raise forms.ValidationError(
                f"This is a <{root.tag}> document; paste a <network> definition (virsh net-dumpxml gives one)."
            )
        net = Network.wrap(root)
        found = problems(root, host_manager=self.host_manager)
        found += name_and_bridge_problems(net, self.taken)
        for ip in net.ips:
            found += ip_problems(ip, self.taken)
        if found:
            raise forms.ValidationError(found)
        self.network = net
        return net.to_xml()

    def network_name(self):
        return self.network.name if self.network is not None else ""

    def to_xml(self) -> str:
        if not self.is_valid():
            raise ValueError("The form has errors; it gives no XML.")
        return self.cleaned_data["xml"]
