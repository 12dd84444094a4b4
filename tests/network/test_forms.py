"""The network forms refuse bad input on the field it belongs to, with a message that says the fix,
and give no XML then: every mode's form, the static DHCP host form and the define-from-XML form."""

import ipaddress
from pathlib import Path

import pytest

from apps.network.forms.create import MODE_FORMS, Taken
from apps.network.forms.define_xml import NetworkXMLForm
from apps.network.forms.dhcp import DhcpHostForm
from apps.network.virt.network_xml import Network

GOLDEN = Path(__file__).parent / "golden"
TAKEN = Taken(
    names=frozenset({"default", "lab"}),
    bridges=frozenset({"virbr0", "virbr1"}),
    subnets=(
        ("default", ipaddress.ip_network("192.168.122.0/24")),
        ("lab", ipaddress.ip_network("10.20.0.0/16")),
        ("lab", ipaddress.ip_network("fd00:20::/64")),
    ),
)
INTERFACES = ("eth0", "eth1", "br0")
NAT = {"name": "new-nat", "bridge": "virbr9", "ipv4_address": "10.30.0.1", "ipv4_prefix": "24"}


def refused(mode, data, field, match, **kwargs):
    """The form is invalid, with an error on `field` matching `match`, and gives no XML."""
    kwargs.setdefault("taken", TAKEN)
    kwargs.setdefault("host_interfaces", INTERFACES)
    form = MODE_FORMS[mode](data, **kwargs)
    assert not form.is_valid()
    assert field in form.errors, form.errors.as_text()
    assert any(match in message for message in form.errors[field]), form.errors[field]
    with pytest.raises(ValueError, match="has errors"):
        form.to_xml()
    return form


def test_the_modes_in_the_picker():
    assert list(MODE_FORMS) == ["nat", "route", "isolated", "open", "bridge", "macvtap", "openvswitch", "hostdev"]
    for mode, form_class in MODE_FORMS.items():
        assert form_class.label and form_class.help and "\n" not in form_class.help, mode
        form = form_class(taken=TAKEN, host_interfaces=INTERFACES)
        assert list(form.fields)[0] == "name"


def test_each_mode_offers_only_what_libvirt_takes_for_it():
    fields = {mode: set(form_class(taken=TAKEN).fields) for mode, form_class in MODE_FORMS.items()}
    for mode in ("nat", "route", "isolated", "open"):
        assert {"ipv4_address", "dhcp_start", "ipv6_prefix", "dns_hosts", "mtu", "inbound_average"} <= fields[mode]
        assert not {"vlan_tag", "portgroups", "interfaces", "pf"} & fields[mode]
    assert (
        "forward_dev" in fields["nat"] and "forward_dev" in fields["route"] and "forward_dev" not in fields["isolated"]
    )
    assert fields["bridge"] == {"name", "bridge"} | {
        f"{w}_{x}" for w in ("inbound", "outbound") for x in ("average", "peak", "burst")
    }
    assert fields["macvtap"] == {"name", "macvtap_mode", "interfaces"}
    assert {"bridge", "vlan_tag", "portgroups"} <= fields["openvswitch"] and "ipv4_address" not in fields["openvswitch"]
    assert fields["hostdev"] == {"name", "pf", "vf_addresses", "vlan_tag", "portgroups"}


def test_host_interfaces_are_offered_as_choices_and_typed_names_without_them():
    form = MODE_FORMS["macvtap"](taken=TAKEN, host_interfaces=INTERFACES)
    assert [c[0] for c in form.fields["interfaces"].widget.choices] == list(INTERFACES)
    form = MODE_FORMS["macvtap"]({"name": "d", "macvtap_mode": "bridge", "interfaces": "eth7, eth8"}, taken=TAKEN)
    assert form.is_valid(), form.errors
    assert [i.dev for i in form.to_network().forward.interfaces] == ["eth7", "eth8"]


@pytest.mark.parametrize("name", ['lab"1', "lab'1", "a<b", "a/b", "ré-seau", "сеть", "a b", ".hidden", "-dash", "a&b"])
def test_names_with_quotes_markup_slashes_or_non_ascii_are_refused(name):
    refused("nat", {**NAT, "name": name}, "name", "Use ASCII letters, digits and . _ - only")


def test_a_name_is_needed_and_at_most_50_characters():
    refused("nat", {**NAT, "name": ""}, "name", "required")
    refused("nat", {**NAT, "name": "x" * 51}, "name", "at most 50 characters")


def test_a_name_another_network_has_is_refused():
    refused("isolated", {"name": "lab"}, "name", "A network named lab exists")


@pytest.mark.parametrize(
    ("bridge", "match"),
    [
        ("virbr-very-long-name", "at most 15"),
        ("virbr0", "in use on this host"),
        ("eth0", "has an interface called eth0"),
        ("vir br", "not an interface name"),
        ("br/0", "not an interface name"),
        ("..", "not an interface name"),
    ],
)
def test_a_bridge_name_over_15_characters_invalid_or_in_use_is_refused(bridge, match):
    refused("nat", {**NAT, "bridge": bridge}, "bridge", match)


def test_a_host_bridge_is_one_that_exists():
    """Host bridge and Open vSwitch modes name a bridge that is there; they need one."""
    form = MODE_FORMS["bridge"]({"name": "b", "bridge": "br0"}, taken=TAKEN, host_interfaces=INTERFACES)
    assert form.is_valid(), form.errors
    refused("bridge", {"name": "b"}, "bridge", "required")
    refused("openvswitch", {"name": "b", "bridge": "ovs-bridge-too-long"}, "bridge", "at most 15")


@pytest.mark.parametrize(
    ("address", "prefix", "match"),
    [
        ("192.168.122.1", "24", "overlaps 192.168.122.0/24 of network default"),
        ("10.20.5.1", "24", "overlaps 10.20.0.0/16 of network lab"),
        ("10.0.0.1", "8", "overlaps 10.20.0.0/16 of network lab"),
        ("10.30.0.0", "24", "network address of 10.30.0.0/24"),
        ("10.30.0.255", "24", "broadcast address"),
    ],
)
def test_an_overlapping_subnet_or_a_bad_bridge_address_is_refused(address, prefix, match):
    refused("nat", {**NAT, "ipv4_address": address, "ipv4_prefix": prefix}, "ipv4_address", match)


def test_the_prefix_is_needed_and_in_range():
    refused("nat", {**NAT, "ipv4_prefix": ""}, "ipv4_prefix", "required")
    refused("nat", {**NAT, "ipv4_prefix": "31"}, "ipv4_prefix", "from 1 to 30")
    refused("nat", {**NAT, "ipv4_address": ""}, "ipv4_address", "required")
    refused("nat", {**NAT, "ipv4_address": "10.30.0.300"}, "ipv4_address", "Enter an IPv4 address")


@pytest.mark.parametrize(
    ("start", "end", "field", "match"),
    [
        ("10.31.0.10", "10.30.0.20", "dhcp_start", "outside the subnet 10.30.0.0/24"),
        (
            "10.30.0.10",
            "10.30.1.20",
            "dhcp_end",
            "outside the subnet 10.30.0.0/24; use an address from 10.30.0.1 to 10.30.0.254",
        ),
        ("10.30.0.10", "10.30.0.255", "dhcp_end", "broadcast address"),
        ("10.30.0.50", "10.30.0.20", "dhcp_end", "before it starts"),
        ("10.30.0.1", "10.30.0.20", "dhcp_start", "includes the bridge's own address 10.30.0.1"),
        ("10.30.0.10", "", "dhcp_end", "both ends"),
        ("", "10.30.0.10", "dhcp_start", "both ends"),
    ],
)
def test_a_dhcp_range_outside_its_subnet_or_backwards_is_refused(start, end, field, match):
    refused("nat", {**NAT, "dhcp_start": start, "dhcp_end": end}, field, match)


def test_a_dhcp_range_needs_an_address():
    refused(
        "isolated",
        {"name": "iso", "dhcp_start": "10.1.0.2", "dhcp_end": "10.1.0.9"},
        "dhcp_start",
        "needs the network's IPv4 address",
    )


def test_dhcpv6_needs_prefix_64():
    v6 = {**NAT, "ipv6_address": "fd00:30::1", "dhcpv6_start": "fd00:30::100", "dhcpv6_end": "fd00:30::1ff"}
    refused("nat", {**v6, "ipv6_prefix": "80"}, "ipv6_prefix", "DHCPv6 in libvirt needs an IPv6 prefix of 64")
    refused("nat", {**v6, "ipv6_prefix": "48"}, "ipv6_prefix", "use /64 instead of /48")
    form = MODE_FORMS["nat"]({**v6, "ipv6_prefix": "64"}, taken=TAKEN)
    assert form.is_valid(), form.errors
    # Without DHCPv6 any prefix does.
    assert MODE_FORMS["nat"]({**NAT, "ipv6_address": "fd00:30::1", "ipv6_prefix": "48"}, taken=TAKEN).is_valid()


def test_ipv6_subnets_do_not_overlap_either():
    data = {**NAT, "ipv6_address": "fd00:20::1", "ipv6_prefix": "64"}
    refused("nat", data, "ipv6_address", "overlaps fd00:20::/64 of network lab")
    refused("nat", {**NAT, "ipv6_address": "10.30.0.9", "ipv6_prefix": "64"}, "ipv6_address", "Enter an IPv6 address")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("mtu", "67", "MTU is a whole number from 68 to 65535"),
        ("mtu", "65536", "from 68 to 65535"),
        ("inbound_average", "0", "from 1 to"),
        ("outbound_burst", "-5", "from 1 to"),
        ("outbound_peak", "lots", "whole number"),
        ("inbound_average", str(2**32), "from 1 to 4294967295"),
    ],
)
def test_mtu_and_qos_numbers_are_in_range(field, value, match):
    refused("nat", {**NAT, field: value}, field, match)


def test_a_qos_peak_or_burst_needs_an_average_below_the_peak():
    refused("route", {**NAT, "outbound_peak": "100"}, "outbound_average", "Give the outbound average too")
    refused("route", {**NAT, "inbound_burst": "100"}, "inbound_average", "Give the inbound average too")
    refused("route", {**NAT, "inbound_average": "200", "inbound_peak": "100"}, "inbound_peak", "at least 200")


@pytest.mark.parametrize("value", ["-1", "4095", "x"])
def test_a_vlan_tag_is_0_to_4094(value):
    refused("openvswitch", {"name": "ovs", "bridge": "ovsbr0", "vlan_tag": value}, "vlan_tag", "from 0 to 4094")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("10.30.0.5", "give at least one host name"),
        ("db 10.30.0.5", "not an IP address"),
        ("10.30.0.5 bad_name", "not a DNS name"),
        ("10.30.0.5 a\n10.30.0.5 b", "listed twice"),
    ],
)
def test_dns_hosts_are_read_line_by_line(text, match):
    refused("nat", {**NAT, "dns_hosts": text}, "dns_hosts", match)


def test_dns_forwarders_and_domain():
    refused("nat", {**NAT, "dns_forwarders": "dns.example.com"}, "dns_forwarders", "not an IP address")
    refused("nat", {**NAT, "dns_forwarders": "1.1.1.1 8.8.8.8"}, "dns_forwarders", "one address per line")
    refused("nat", {**NAT, "domain": "lab_example"}, "domain", "not a DNS name")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a default\nb default", "already the default"),
        ("a\na", "listed twice"),
        ("a vlan=5000", "from 0 to 4094"),
        ("a vlan=x", "from 0 to 4094"),
        ("a tagged", "not understood"),
        ("a'b", "not a portgroup name"),
    ],
)
def test_portgroups_are_read_line_by_line(text, match):
    refused("openvswitch", {"name": "ovs", "bridge": "ovsbr0", "portgroups": text}, "portgroups", match)


def test_forward_devices_macvtap_and_sriov_choices():
    refused("route", {**NAT, "forward_dev": "eth9"}, "forward_dev", "no interface eth9; pick one of eth0, eth1, br0")
    refused("route", {**NAT, "forward_dev": "eth0 eth1"}, "forward_dev", "one interface name")
    refused("macvtap", {"name": "d", "macvtap_mode": "vepa"}, "interfaces", "required")
    refused(
        "macvtap",
        {"name": "d", "macvtap_mode": "vepa", "interfaces": ["eth0", "eth9"]},
        "interfaces",
        "no interface eth9",
    )
    refused(
        "macvtap",
        {"name": "d", "macvtap_mode": "loose", "interfaces": ["eth0"]},
        "macvtap_mode",
        "Select a valid choice",
    )
    refused("hostdev", {"name": "s"}, "pf", "Choose the SR-IOV physical function")
    refused("hostdev", {"name": "s", "pf": "eth1", "vf_addresses": "0000:03:10.0"}, "vf_addresses", "not both")
    refused("hostdev", {"name": "s", "vf_addresses": "0000:03:10.0\nnot-pci"}, "vf_addresses", "Line 2")


def test_every_macvtap_mode_is_the_forward_mode():
    for mode in ("bridge", "vepa", "private", "passthrough"):
        form = MODE_FORMS["macvtap"](
            {"name": "d", "macvtap_mode": mode, "interfaces": ["eth0"]}, taken=TAKEN, host_interfaces=INTERFACES
        )
        assert form.is_valid(), form.errors
        assert Network.parse(form.to_xml()).mode == mode


def test_a_good_form_gives_its_name_and_xml():
    form = MODE_FORMS["nat"](NAT, taken=TAKEN, host_interfaces=INTERFACES)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == form.network_name() == "new-nat"
    net = Network.parse(form.to_xml())
    assert (net.uuid, net.bridge, net.cidr) == (None, "virbr9", "10.30.0.1/24")


def test_a_form_without_taken_checks_nothing_on_the_host():
    form = MODE_FORMS["nat"](
        {**NAT, "name": "default", "bridge": "virbr0", "ipv4_address": "192.168.122.1"}, taken=None
    )
    assert form.is_valid(), form.errors


# -- static DHCP hosts -------------------------------------------------------------------------

SUBNETS = ["10.30.0.1/24", "fd00:30::1/64", "10.31.0.1/255.255.255.0"]
EXISTING = [{"mac": "52:54:00:00:00:01", "ip": "10.30.0.10", "name": "web1"}]


def dhcp_refused(data, field, match):
    form = DhcpHostForm(data, subnet_cidrs=SUBNETS, existing=EXISTING)
    assert not form.is_valid()
    assert field in form.errors, form.errors.as_text()
    assert any(match in message for message in form.errors[field]), form.errors[field]
    with pytest.raises(ValueError, match="has errors"):
        form.to_xml()


def test_a_static_dhcp_host_gives_the_host_element_with_a_lowercase_mac():
    form = DhcpHostForm(
        {"mac": "52-54-00-AA-00-02", "ip": "10.31.0.20", "name": "db1"}, subnet_cidrs=SUBNETS, existing=EXISTING
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mac"] == "52:54:00:aa:00:02"
    assert form.to_xml() == '<host mac="52:54:00:aa:00:02" name="db1" ip="10.31.0.20"/>\n'
    form = DhcpHostForm({"mac": "52:54:00:aa:00:03", "ip": "10.30.0.21"}, subnet_cidrs=SUBNETS, existing=EXISTING)
    assert form.is_valid() and form.to_xml() == '<host mac="52:54:00:aa:00:03" ip="10.30.0.21"/>\n'


@pytest.mark.parametrize(
    ("data", "field", "match"),
    [
        ({"mac": "52:54:00:zz:00:02", "ip": "10.30.0.20"}, "mac", "not a MAC address"),
        ({"mac": "52:54:00:aa:00", "ip": "10.30.0.20"}, "mac", "not a MAC address"),
        ({"mac": "52:54:00-aa:00:02", "ip": "10.30.0.20"}, "mac", "not a MAC address"),
        ({"mac": "01:00:5e:00:00:01", "ip": "10.30.0.20"}, "mac", "multicast"),
        ({"mac": "52:54:00:00:00:01", "ip": "10.30.0.20"}, "mac", "already has a static address (10.30.0.10)"),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.10"}, "ip", "already given to 52:54:00:00:00:01"),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.20", "name": "WEB1"}, "name", "already used"),
        (
            {"mac": "52:54:00:00:00:02", "ip": "10.40.0.20"},
            "ip",
            "not in the network's IPv4 subnets (10.30.0.0/24, 10.31.0.0/24)",
        ),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.1"}, "ip", "the bridge's own address"),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.255"}, "ip", "broadcast address"),
        ({"mac": "52:54:00:00:00:02", "ip": "fd00:30::5"}, "ip", "Enter an IPv4 address"),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.20", "name": "web_1"}, "name", "not a host name"),
        ({"mac": "52:54:00:00:00:02", "ip": "10.30.0.20", "name": '"><x'}, "name", "not a host name"),
    ],
)
def test_bad_or_duplicate_static_hosts_are_refused(data, field, match):
    dhcp_refused(data, field, match)


# -- define from XML -----------------------------------------------------------------------------


def xml_form(xml, taken=TAKEN, **kwargs):
    return NetworkXMLForm({"xml": xml}, taken=taken, **kwargs)


def xml_refused(xml, match, **kwargs):
    form = xml_form(xml, **kwargs)
    assert not form.is_valid()
    assert any(match in message for message in form.errors["xml"]), form.errors["xml"]
    with pytest.raises(ValueError, match="has errors"):
        form.to_xml()
    return form


@pytest.mark.parametrize("case", sorted(p.stem for p in GOLDEN.glob("*.xml")))
def test_every_golden_file_may_be_defined_from_xml(case):
    text = (GOLDEN / f"{case}.xml").read_text()
    form = xml_form(text)
    assert form.is_valid(), form.errors
    assert form.to_xml() == text
    assert form.network_name() == Network.parse(text).name


def test_the_xml_form_cleans_what_it_returns():
    form = xml_form("<network><name>tidy</name>   <bridge name='virbr7'/></network>")
    assert form.is_valid(), form.errors
    assert form.to_xml() == '<network>\n  <name>tidy</name>\n  <bridge name="virbr7"/>\n</network>\n'


@pytest.mark.parametrize(
    ("xml", "match"),
    [
        ("<network><name>x</name>", "does not read"),
        ("", "required"),
        ("<domain type='kvm'><name>x</name></domain>", "This is a <domain> document"),
        ('<!DOCTYPE network [<!ENTITY e "x">]><network><name>&e;</name></network>', "DOCTYPE"),
        ("<network><bridge name='virbr7'/></network>", "needs a <name>"),
        ("<network><name>a'b</name></network>", 'Network name "a\'b"'),
        ("<network><name> x </name></network>", "Use ASCII letters"),
        ("<network><name>lab</name></network>", "A network named lab exists"),
        ("<network><name>n</name><bridge name='virbr1'/></network>", "Bridge virbr1 is in use"),
        ("<network><name>n</name><bridge name='abcdefghijklmnop'/></network>", "at most 15"),
        (
            "<network><name>n</name><ip address='10.20.1.1' prefix='24'/></network>",
            "overlaps 10.20.0.0/16 of network lab",
        ),
        (
            "<network><name>n</name><ip address='10.30.0.1' netmask='255.255.255.0'><dhcp>"
            "<range start='10.30.1.2' end='10.30.1.9'/></dhcp></ip></network>",
            "DHCP range 10.30.1.2–10.30.1.9: 10.30.1.2 is outside the subnet 10.30.0.0/24",
        ),
        (
            "<network><name>n</name><ip family='ipv6' address='fd00:30::1' prefix='96'><dhcp>"
            "<range start='fd00:30::2' end='fd00:30::9'/></dhcp></ip></network>",
            "needs an IPv6 prefix of 64",
        ),
        (
            "<network><name>n</name><ip address='10.30.0.1' prefix='24'><dhcp>"
            "<host mac='52:54:00:00:00:01' ip='10.30.0.5'/><host mac='52:54:00:00:00:01' ip='10.30.0.6'/></dhcp></ip></network>",
            "52:54:00:00:00:01 already has a static address (10.30.0.5)",
        ),
        (
            "<network><name>n</name><ip address='10.30.0.1' prefix='24'><dhcp>"
            "<host mac='52:54:00:00:00:zz' ip='10.30.0.5'/></dhcp></ip></network>",
            "not a MAC address",
        ),
        ("<network><name>n</name><ip address='10.30.0.1' prefix='nope'/></network>", "not an address with a prefix"),
        (
            "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name>"
            "<dnsmasq:options><dnsmasq:option value='dhcp-script=/tmp/x'/></dnsmasq:options></network>",
            "<dnsmasq:options> is not accepted",
        ),
        ("<network><name>n</name><foo/></network>", "<foo> in <network> is not part of libvirt's network format"),
        (
            "<network><name>n</name><ip address='10.30.0.1' prefix='24'><tftp root='/etc'/></ip></network>",
            "only someone who may manage the host",
        ),
    ],
)
def test_pasted_xml_is_held_to_the_same_rules(xml, match):
    xml_refused(xml, match)


def test_a_host_manager_may_serve_tftp_and_an_edit_keeps_its_own_name():
    tftp = "<network><name>pxe</name><ip address='10.30.0.1' prefix='24'><tftp root='/srv/tftp'/></ip></network>"
    assert xml_form(tftp, host_manager=True).is_valid()
    # Editing "lab": the view leaves the network itself out of Taken, so its name and subnet pass.
    others = Taken(names=frozenset({"default"}), bridges=frozenset({"virbr0"}), subnets=TAKEN.subnets[:1])
    lab = "<network><name>lab</name><uuid>5971e7f1-4528-43ba-935e-8d057e719479</uuid><bridge name='virbr1'/><ip address='10.20.0.1' prefix='16'/></network>"
    form = xml_form(lab, taken=others)
    assert form.is_valid(), form.errors
    assert Network.parse(form.to_xml()).uuid == "5971e7f1-4528-43ba-935e-8d057e719479"


def test_an_unbound_xml_form_renders_without_taken():
    form = NetworkXMLForm(initial={"xml": "<network/>"}, taken=None)
    assert not form.is_bound and "xml" in form.fields
