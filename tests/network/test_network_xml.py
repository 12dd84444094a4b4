"""Network XML. Each forward mode's form output is pinned by a golden file, valid against libvirt's
own schema (virt-xml-validate), defined on the test driver and read back with its fields intact,
and parsed and emitted to the same text by the typed classes; what libvirt itself writes comes back
with nothing lost; and the networkUpdate elements are what `virsh net-update` takes.

Set KVMWEB_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from apps.hosts.virt import connection
from apps.network.forms.create import MODE_FORMS, Taken
from apps.network.virt.network_xml import (
    Bandwidth,
    DhcpHost,
    DhcpRange,
    Forward,
    Network,
    NetworkIP,
    PciAddress,
    Portgroup,
    Rate,
    Vlan,
    dhcp_host_xml,
    dhcp_range_xml,
    dns_host_xml,
    portgroup_xml,
)
from tests.helpers import TEST_URI, unavailable, unique

GOLDEN = Path(__file__).parent / "golden"
LIBVIRT_GOLDEN = GOLDEN / "libvirt"
SCHEMA = Path("/usr/share/libvirt/schemas/network.rng")
DEFINE_VALIDATE = 1  # libvirt.VIR_NETWORK_DEFINE_VALIDATE (only adapters import libvirt)
HOST_INTERFACES = ("eth0", "eth1", "eth2", "eth3", "enp3s0f0")

# golden file name -> (mode, what a sysadmin would type into that mode's form)
CASES = {
    "nat": (
        "nat",
        {
            "name": "lab-nat",
            "bridge": "virbr10",
            "forward_dev": "eth0",
            "ipv4_address": "10.10.0.1",
            "ipv4_prefix": "24",
            "dhcp_start": "10.10.0.100",
            "dhcp_end": "10.10.0.199",
            "ipv6_address": "fd00:10::1",
            "ipv6_prefix": "64",
            "dhcpv6_start": "fd00:10::100",
            "dhcpv6_end": "fd00:10::1ff",
            "domain": "lab.example",
            "dns_hosts": "10.10.0.5 db db.lab.example\n10.10.0.6 cache",
            "dns_forwarders": "192.0.2.53\n2001:db8::53",
            "mtu": "9000",
            "inbound_average": "12500",
            "inbound_peak": "25000",
            "inbound_burst": "1024",
            "outbound_average": "6250",
        },
    ),
    "nat-minimal": ("nat", {"name": "small-nat", "ipv4_address": "10.11.0.1", "ipv4_prefix": "24"}),
    "route": (
        "route",
        {
            "name": "lab-routed",
            "bridge": "virbr11",
            "forward_dev": "eth1",
            "ipv4_address": "10.12.0.1",
            "ipv4_prefix": "24",
            "dhcp_start": "10.12.0.10",
            "dhcp_end": "10.12.0.99",
        },
    ),
    "isolated": (
        "isolated",
        {
            "name": "lab-isolated",
            "bridge": "virbr12",
            "ipv4_address": "10.13.0.1",
            "ipv4_prefix": "24",
            "dhcp_start": "10.13.0.100",
            "dhcp_end": "10.13.0.199",
            "domain": "iso.lab.example",
        },
    ),
    "isolated-bare": ("isolated", {"name": "bare-isolated"}),
    "open": ("open", {"name": "lab-open", "bridge": "virbr13", "ipv4_address": "10.14.0.1", "ipv4_prefix": "25"}),
    "bridge": ("bridge", {"name": "host-br0", "bridge": "br0", "outbound_average": "125000"}),
    "macvtap": ("macvtap", {"name": "direct-vepa", "macvtap_mode": "vepa", "interfaces": ["eth2", "eth3"]}),
    "macvtap-passthrough": (
        "macvtap",
        {"name": "direct-passthrough", "macvtap_mode": "passthrough", "interfaces": "eth3"},
    ),
    "openvswitch": (
        "openvswitch",
        {
            "name": "ovs-lab",
            "bridge": "ovsbr0",
            "vlan_tag": "1",
            "portgroups": "vlan-10 vlan=10 default\nvlan-20 vlan=20\ntrunk vlan=10,20",
        },
    ),
    "hostdev": ("hostdev", {"name": "sriov-pf", "pf": "enp3s0f0", "vlan_tag": "42", "portgroups": "tenant-a vlan=100"}),
    "hostdev-vfs": ("hostdev", {"name": "sriov-vfs", "vf_addresses": "0000:03:10.0\n03:10.2"}),
}


def form_xml(case):
    mode, data = CASES[case]
    form = MODE_FORMS[mode](data, taken=Taken(), host_interfaces=HOST_INTERFACES)
    assert form.is_valid(), form.errors.as_text()
    return form.to_xml()


def canonical(xml):
    """The document without insignificant whitespace, attribute order or quoting style."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n")


def test_every_mode_has_a_golden_case():
    assert {mode for mode, _ in CASES.values()} == set(MODE_FORMS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_form_output_matches_the_golden_file(case):
    xml = form_xml(case)
    golden = GOLDEN / f"{case}.xml"
    if os.environ.get("KVMWEB_UPDATE_GOLDEN"):
        golden.write_text(xml)
    assert xml == golden.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_file_is_valid_for_libvirts_schema(case):
    if not SCHEMA.exists():
        unavailable(f"libvirt's RelaxNG schema {SCHEMA} is not installed (libvirt-daemon ships it)")
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.parse(str(GOLDEN / f"{case}.xml"))), schema.error_log


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_file_passes_virt_xml_validate(case):
    """libvirt's own validator (xmllint over network.rng; scripts/setup --test installs both)."""
    if shutil.which("virt-xml-validate") is None or shutil.which("xmllint") is None:
        unavailable("virt-xml-validate needs xmllint (libxml2-utils), not installed here")
    done = subprocess.run(
        ["virt-xml-validate", str(GOLDEN / f"{case}.xml"), "network"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def assert_contains(expected, actual, where="network"):
    """Every attribute, text and child we wrote is in libvirt's copy (libvirt adds more: a uuid,
    a MAC, the forward dev's <interface>)."""
    for key, value in expected.attrib.items():
        assert actual.get(key) == value, f"{where}/@{key}: {actual.get(key)!r} != {value!r}"
    if (expected.text or "").strip():
        assert (actual.text or "").strip() == expected.text.strip(), f"{where} text"
    for tag in dict.fromkeys(child.tag for child in expected):
        wanted, got = expected.findall(tag), actual.findall(tag)
        assert len(got) == len(wanted), f"{where}/{tag}: libvirt kept {len(got)} of {len(wanted)}"
        for i, (w, g) in enumerate(zip(wanted, got, strict=True)):
            assert_contains(w, g, f"{where}/{tag}[{i}]")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_file_round_trips_through_libvirts_parser(case, test_driver):
    """The test driver takes every mode (it checks no host devices): each is defined with libvirt's
    own schema validation, read back with every field it was given, and undefined."""
    root = etree.fromstring((GOLDEN / f"{case}.xml").read_bytes())
    root.find("name").text = unique(f"kvmweb-test-{case}")
    if CASES[case][0] in ("nat", "route", "isolated", "open") and root.find("bridge") is not None:
        root.find("bridge").set("name", unique("kv")[:15])  # libvirt refuses a bridge another network has
    xml = etree.tostring(root, encoding="unicode")
    net = test_driver.networkDefineXMLFlags(xml, DEFINE_VALIDATE)
    try:
        # The test driver refuses VIR_NETWORK_XML_INACTIVE; an inactive network's XML is the same.
        back = etree.fromstring(net.XMLDesc(0).encode())
    finally:
        net.undefine()
    assert_contains(root, back)
    mode, data = CASES[case]
    expected = {"macvtap": data.get("macvtap_mode"), "openvswitch": "bridge"}.get(mode, mode)
    read = Network.parse(etree.tostring(back, encoding="unicode"))
    assert (read.mode, read.kind) == (expected, mode)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_file_parses_and_emits_the_same_text(case):
    text = (GOLDEN / f"{case}.xml").read_text()
    assert Network.parse(text).to_xml() == text


def test_a_parsed_network_reads_as_it_was_built():
    nat = Network.parse((GOLDEN / "nat.xml").read_text())
    assert (nat.name, nat.mode, nat.bridge, nat.stp, nat.delay, nat.mtu) == ("lab-nat", "nat", "virbr10", True, 0, 9000)
    assert (nat.cidr, nat.forward_devices, nat.domain_name, nat.domain_local_only) == (
        "10.10.0.1/24", ["eth0"], "lab.example", True,
    )  # fmt: skip
    assert [(h.ip, h.hostnames) for h in nat.dns.hosts] == [
        ("10.10.0.5", ["db", "db.lab.example"]),
        ("10.10.0.6", ["cache"]),
    ]
    assert [f.addr for f in nat.dns.forwarders] == ["192.0.2.53", "2001:db8::53"]
    assert (nat.bandwidth.inbound.average, nat.bandwidth.inbound.peak, nat.bandwidth.inbound.burst) == (
        12500,
        25000,
        1024,
    )
    assert (nat.bandwidth.outbound.average, nat.bandwidth.outbound.peak) == (6250, None)
    v6 = nat.ipv6s[0]
    assert (v6.is_ipv6, v6.prefix, [(r.start, r.end) for r in v6.dhcp_ranges]) == (
        True, 64, [("fd00:10::100", "fd00:10::1ff")],
    )  # fmt: skip
    assert str(nat.ipv4.interface.network) == "10.10.0.0/24"
    assert Network.parse((GOLDEN / "isolated-bare.xml").read_text()).mode == "isolated"
    macvtap = Network.parse((GOLDEN / "macvtap.xml").read_text())
    assert (macvtap.mode, macvtap.forward_devices, macvtap.cidr) == ("vepa", ["eth2", "eth3"], None)
    ovs = Network.parse((GOLDEN / "openvswitch.xml").read_text())
    assert (ovs.mode, ovs.virtualport_type, ovs.vlan.ids) == ("bridge", "openvswitch", [1])
    assert [(p.name, p.vlan_tag, p.default, p.vlan.trunk) for p in ovs.portgroups] == [
        ("vlan-10", 10, True, None),
        ("vlan-20", 20, None, None),
        ("trunk", 10, None, True),
    ]
    assert ovs.portgroups[2].vlan.ids == [10, 20]
    pf = Network.parse((GOLDEN / "hostdev.xml").read_text())
    assert (pf.mode, pf.forward.managed, pf.forward.pf, pf.forward_devices) == (
        "hostdev",
        True,
        "enp3s0f0",
        ["enp3s0f0"],
    )
    vfs = Network.parse((GOLDEN / "hostdev-vfs.xml").read_text())
    assert vfs.forward_devices == ["0000:03:10.0", "0000:03:10.2"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_adapters_summary_reads_every_golden_file(case):
    """apps/network/virt/networks.summary (the inventory's reader) goes through these classes."""
    from apps.network.virt.networks import summary

    found = summary((GOLDEN / f"{case}.xml").read_text())
    net = Network.parse((GOLDEN / f"{case}.xml").read_text())
    assert found["forward_mode"] == net.mode and found["devices"] == net.forward_devices


# -- what libvirt itself wrote -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in LIBVIRT_GOLDEN.glob("*.xml")))
def test_what_libvirt_wrote_parses_and_emits_the_same_document(name):
    text = (LIBVIRT_GOLDEN / name).read_text()
    emitted = Network.parse(text).to_xml()
    assert canonical(emitted) == canonical(text)
    assert Network.parse(emitted).to_xml() == emitted


def test_the_test_drivers_default_network_comes_back_with_nothing_lost(test_driver):
    """libvirt's own output for the test driver's "default" network, and an edit through the typed
    class that keeps all of it."""
    conn = connection.get(TEST_URI)
    xml = conn.networkLookupByName("default").XMLDesc(0)
    net = Network.parse(xml)
    assert canonical(net.to_xml()) == canonical(xml)
    assert (net.mode, net.bridge, net.cidr) == ("nat", "virbr0", "192.168.122.1/255.255.255.0")
    assert [(r.start, r.end) for r in net.ipv4.dhcp_ranges] == [("192.168.122.2", "192.168.122.254")]
    net.mtu = 1400
    edited = etree.fromstring(net.to_xml().encode())
    original = etree.fromstring(xml.encode())
    assert edited.find("mtu").get("size") == "1400"
    assert [el.tag for el in edited] == ["name", "uuid", "forward", "bridge", "mtu", "ip"]
    for path in ("name", "uuid", "forward", "bridge", "ip"):
        assert canonical(etree.tostring(edited.find(path))) == canonical(etree.tostring(original.find(path))), path


def test_a_rich_definition_libvirt_wrote_comes_back_with_nothing_lost(test_driver):
    """Everything the classes model, in one network libvirt parsed and wrote back."""
    name = unique("kvmweb-test-rich")
    source = (Path(__file__).parent / "golden" / "nat.xml").read_text().replace("lab-nat", name)
    source = source.replace('name="virbr10"', f'name="{unique("kv")[:15]}"')
    net = test_driver.networkDefineXML(source)
    try:
        xml = net.XMLDesc(0)
    finally:
        net.undefine()
    parsed = Network.parse(xml)
    assert canonical(parsed.to_xml()) == canonical(xml)
    assert parsed.uuid and parsed.forward.interfaces[0].dev == "eth0"


# -- building ------------------------------------------------------------------------------------


def test_elements_are_written_in_libvirts_order():
    net = Network(
        portgroups=[Portgroup(name="p", bandwidth=Bandwidth(inbound=Rate(average=1)), vlan=Vlan.of(3))],
        ips=[NetworkIP(address="10.0.0.1", prefix=24, dhcp_hosts=[DhcpHost(mac="52:54:00:00:00:01", ip="10.0.0.5")])],
        bandwidth=Bandwidth(outbound=Rate(average=2), inbound=Rate(average=1)),
        mtu=1400,
        bridge="virbr9",
        forward=Forward(mode="nat"),
        name="n",
    )
    net.ips[0].dhcp_ranges = [DhcpRange(start="10.0.0.10", end="10.0.0.20")]
    root = net.to_element()
    assert [el.tag for el in root] == ["name", "forward", "bridge", "mtu", "bandwidth", "ip", "portgroup"]
    assert [el.tag for el in root.find("bandwidth")] == ["inbound", "outbound"]
    assert [el.tag for el in root.find("ip/dhcp")] == ["range", "host"]
    assert [el.tag for el in root.find("portgroup")] == ["vlan", "bandwidth"]


def test_the_mode_of_a_network():
    assert Network(name="x").mode == "isolated"
    assert Network.parse("<network><name>x</name><forward/></network>").mode == "nat"
    assert Network(name="x", forward=Forward(mode="private")).mode == "private"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_kind_of_each_golden_file_is_the_form_it_came_from(case):
    assert Network.parse((GOLDEN / f"{case}.xml").read_text()).kind == CASES[case][0]


def test_pci_addresses_read_and_write_as_libvirt_and_lspci_do():
    address = PciAddress.from_text("0000:03:1f.7")
    assert address.to_element().attrib == {
        "type": "pci", "domain": "0x0000", "bus": "0x03", "slot": "0x1f", "function": "0x7",
    }  # fmt: skip
    assert address.text == "0000:03:1f.7"
    for bad in ("03:20.0", "0000:03:10.8", "eth0", "0000:3:10.1", ""):
        with pytest.raises(ValueError, match="not a PCI address"):
            PciAddress.from_text(bad)


def test_names_with_markup_are_escaped_not_interpreted():
    assert "<name>a&lt;b&gt;&amp;c</name>" in Network(name="a<b>&c").to_xml()


# -- elements for networkUpdate ------------------------------------------------------------------


def test_network_update_elements():
    assert dhcp_host_xml(mac="52:54:00:aa:00:01", ip="10.0.0.5", name="web1") == (
        '<host mac="52:54:00:aa:00:01" name="web1" ip="10.0.0.5"/>\n'
    )
    assert (
        dhcp_host_xml(mac="52:54:00:aa:00:01", ip="10.0.0.5", name="")
        == '<host mac="52:54:00:aa:00:01" ip="10.0.0.5"/>\n'
    )
    assert dhcp_host_xml(id="0:3:0:1:52:54:0:aa:0:1", ip="fd00::5", name="v6") == (
        '<host id="0:3:0:1:52:54:0:aa:0:1" name="v6" ip="fd00::5"/>\n'
    )
    assert dns_host_xml(ip="10.0.0.5", hostnames=["db", "db.lab"]) == (
        '<host ip="10.0.0.5">\n  <hostname>db</hostname>\n  <hostname>db.lab</hostname>\n</host>\n'
    )
    assert dhcp_range_xml(start="10.0.0.10", end="10.0.0.20") == '<range start="10.0.0.10" end="10.0.0.20"/>\n'
    group = etree.fromstring(
        portgroup_xml(name="pg", default=True, vlan_ids=[10, 20], inbound={"average": 100, "burst": 5}).encode()
    )
    assert group.attrib == {"name": "pg", "default": "yes"}
    assert group.find("vlan").get("trunk") == "yes" and [t.get("id") for t in group.iter("tag")] == ["10", "20"]
    assert group.find("bandwidth/inbound").attrib == {"average": "100", "burst": "5"}
    assert portgroup_xml(name="plain") == '<portgroup name="plain"/>\n'


def test_network_update_elements_are_taken_by_libvirt(test_driver):
    """Each builder's element, through the adapter's networkUpdate on the test driver, lands in
    the definition (and a DHCP host leaves it again)."""
    from apps.network.virt import networks as network_virt

    name = unique("kvmweb-test-upd")
    xml = Network(name=name, bridge=unique("kv")[:15], ips=[NetworkIP(address="10.99.0.1", prefix=24)]).to_xml()
    uuid = network_virt.define(test_driver, xml)
    host = dhcp_host_xml(mac="52:54:00:99:00:01", ip="10.99.0.5", name="web1")
    try:
        for section, element in (
            ("dhcp_range", dhcp_range_xml(start="10.99.0.10", end="10.99.0.20")),
            ("dhcp_host", host),
            ("dns_host", dns_host_xml(ip="10.99.0.5", hostnames=["web1"])),
            ("portgroup", portgroup_xml(name="pg", default=True)),
        ):
            network_virt.update(test_driver, uuid, command="add", section=section, xml=element)
        back = Network.parse(network_virt.network_xml(test_driver, uuid))
        assert [(r.start, r.end) for r in back.ipv4.dhcp_ranges] == [("10.99.0.10", "10.99.0.20")]
        assert [(h.mac, h.ip, h.name) for h in back.ipv4.dhcp_hosts] == [("52:54:00:99:00:01", "10.99.0.5", "web1")]
        assert [(h.ip, h.hostnames) for h in back.dns.hosts] == [("10.99.0.5", ["web1"])]
        assert [(p.name, p.default) for p in back.portgroups] == [("pg", True)]
        network_virt.update(test_driver, uuid, command="delete", section="dhcp_host", xml=host)
        assert Network.parse(network_virt.network_xml(test_driver, uuid)).ipv4.dhcp_hosts == []
    finally:
        network_virt.undefine_quietly(test_driver, uuid)
