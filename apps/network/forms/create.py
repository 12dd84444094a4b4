"""New networks, one form per forward mode (MODE_FORMS), each producing the typed <network>.

Which mode takes which options follows what libvirt accepts (bridge_driver.c networkValidate):
only the modes where libvirt makes the bridge (nat, route, isolated, open) have addresses, DHCP,
DNS and an MTU; QoS needs a bridge (not macvtap or SR-IOV); VLAN tags need Open vSwitch or SR-IOV.
"""

from dataclasses import dataclass

from django import forms

from apps.network.virt.network_xml import Forward, ForwardInterface, PciAddress, VirtualPort

from .base import DNS_FIELDS, IPV4_FIELDS, IPV6_FIELDS, QOS_FIELDS, NetworkForm


@dataclass(frozen=True)
class Taken:
    """What is in use on the host already: network names, bridge names (of other networks and of
    host interfaces), and subnets as (owner network's name, ipaddress network)."""

    names: frozenset = frozenset()
    bridges: frozenset = frozenset()
    subnets: tuple = ()


ROUTED_FIELDS = ("name", "bridge", "forward_dev", *IPV4_FIELDS, *IPV6_FIELDS, *DNS_FIELDS, "mtu", *QOS_FIELDS)
LOCAL_FIELDS = tuple(n for n in ROUTED_FIELDS if n != "forward_dev")


class NatForm(NetworkForm):
    mode = "nat"
    label = "NAT"
    help = "Guests reach outside through the host's address, like libvirt's default network."
    FIELDS = ROUTED_FIELDS
    REQUIRED = ("ipv4_address", "ipv4_prefix")
    MANAGED = True


class RouteForm(NetworkForm):
    mode = "route"
    label = "Routed"
    help = "The guests' subnet is routed through the host without NAT; the upstream router needs a route back."
    FIELDS = ROUTED_FIELDS
    REQUIRED = ("ipv4_address", "ipv4_prefix")
    MANAGED = True


class IsolatedForm(NetworkForm):
    mode = "isolated"
    label = "Isolated"
    help = "Guests reach each other and the host, nothing beyond."
    FIELDS = LOCAL_FIELDS
    MANAGED = True

    def forward(self, data):
        return None


class OpenForm(NetworkForm):
    mode = "open"
    label = "Open"
    help = "Routed, but libvirt adds no firewall rules: the host's own firewall decides."
    FIELDS = LOCAL_FIELDS
    MANAGED = True


class BridgeForm(NetworkForm):
    mode = "bridge"
    label = "Host bridge"
    help = "Guests join an existing Linux bridge of the host, on the physical network."
    FIELDS = ("name", "bridge", *QOS_FIELDS)
    REQUIRED = ("bridge",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bridge"].help_text = "An existing bridge on the host (e.g. br0); libvirt does not create it."


class MacvtapForm(NetworkForm):
    mode = "macvtap"
    label = "Macvtap (direct)"
    help = "Guests attach straight to host interfaces through macvtap: bridge, VEPA, private or passthrough."
    FIELDS = ("name", "macvtap_mode", "interfaces")

    def forward(self, data):
        return Forward(mode=data["macvtap_mode"], interfaces=[ForwardInterface(dev=d) for d in data["interfaces"]])


class OpenvswitchForm(NetworkForm):
    mode = "openvswitch"
    label = "Open vSwitch"
    help = "Guests join an existing Open vSwitch bridge; portgroups put them on VLANs."
    FIELDS = ("name", "bridge", "vlan_tag", "portgroups", *QOS_FIELDS)
    REQUIRED = ("bridge",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bridge"].help_text = "An existing Open vSwitch bridge (ovs-vsctl add-br ovsbr0)."

    def forward(self, data):
        return Forward(mode="bridge")

    def to_network(self):
        net = super().to_network()
        net.virtualport = VirtualPort(type="openvswitch")
        return net


class HostdevForm(NetworkForm):
    mode = "hostdev"
    label = "SR-IOV (hostdev)"
    help = "Each guest gets a virtual function of an SR-IOV card, passed through to it."
    FIELDS = ("name", "pf", "vf_addresses", "vlan_tag", "portgroups")

    def clean_vf_addresses(self):
        found = []
        for number, line in enumerate(self.cleaned_data["vf_addresses"].splitlines(), 1):
            if line.strip():
                try:
                    found.append(PciAddress.from_text(line).text)
                except ValueError as exc:
                    raise forms.ValidationError(f"Line {number}: {exc}.") from None
        return list(dict.fromkeys(found))

    def clean(self):
        data = super().clean()
        if "pf" in self.errors or "vf_addresses" in self.errors:
            return data
        if data.get("pf") and data.get("vf_addresses"):
            self.add_error("vf_addresses", "Give a PF or a list of VFs, not both (libvirt takes one or the other).")
        elif not data.get("pf") and not data.get("vf_addresses"):
            self.add_error("pf", "Choose the SR-IOV physical function, or list its VFs' PCI addresses.")
        return data

    def forward(self, data):
        return Forward(
            mode="hostdev",
            managed=True,
            pf=data.get("pf") or None,
            addresses=[PciAddress.from_text(a) for a in data.get("vf_addresses") or ()],
        )


MODE_FORMS: dict[str, type[NetworkForm]] = {
    form.mode: form
    for form in (NatForm, RouteForm, IsolatedForm, OpenForm, BridgeForm, MacvtapForm, OpenvswitchForm, HostdevForm)
}
