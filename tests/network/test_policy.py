"""The allow-list for network XML: everything of libvirt's network format kvmweb knows passes,
anything else — unknown elements and attributes, other namespaces such as dnsmasq:options — is
refused with its name, and a TFTP root needs the right to manage the host."""

from pathlib import Path

import pytest
from lxml import etree

from apps.network.policy import ALLOWED, problems
from apps.network.virt.network_xml import Network

GOLDEN = Path(__file__).parent / "golden"

# Every element and attribute of ALLOWED in one document. libvirt would refuse some of the
# combinations (a PF beside an interface list; <title> is newer than libvirt 9.0's schema): the
# allow-list says which names may appear, libvirt judges how they go together.
EVERYTHING = """<network connections="1" ipv6="yes" trustGuestRxFilters="no">
  <name>everything</name>
  <uuid>5971e7f1-4528-43ba-935e-8d057e719479</uuid>
  <title>All of it</title>
  <description>Every element kvmweb accepts</description>
  <metadata><app:note xmlns:app="http://example.com/app" colour="blue"><app:any/></app:note></metadata>
  <forward dev="eth0" mode="nat" managed="no">
    <driver name="vfio"/>
    <nat ipv6="yes"><address start="192.0.2.10" end="192.0.2.20"/><port start="1024" end="65535"/></nat>
    <pf dev="eth9"/>
    <interface dev="eth0" connections="0"/>
    <address type="pci" domain="0x0000" bus="0x03" slot="0x10" function="0x1" connections="0"/>
  </forward>
  <bridge name="virbr20" zone="trusted" stp="on" delay="0" macTableManager="kernel"/>
  <mtu size="9000"/>
  <mac address="52:54:00:12:34:56"/>
  <domain name="lab.example" localOnly="yes"/>
  <dns enable="yes" forwardPlainNames="no">
    <forwarder domain="corp.example" addr="192.0.2.53"/>
    <txt name="info" value="lab"/>
    <srv service="ldap" protocol="tcp" domain="lab.example" target="dc" port="389" priority="1" weight="1"/>
    <host ip="10.20.0.5"><hostname>db</hostname></host>
  </dns>
  <vlan trunk="yes"><tag id="5" nativeMode="untagged"/><tag id="6"/></vlan>
  <bandwidth><inbound average="1" peak="2" floor="1" burst="3"/><outbound average="1" peak="2" floor="1" burst="3"/></bandwidth>
  <port isolated="yes"/>
  <ip family="ipv4" address="10.20.0.1" prefix="24" localPtr="yes">
    <tftp root="/srv/tftp"/>
    <dhcp>
      <range start="10.20.0.100" end="10.20.0.199"><lease expiry="1" unit="hours"/></range>
      <host mac="52:54:00:00:00:01" id="0:1" name="db" ip="10.20.0.5"><lease expiry="2" unit="hours"/></host>
      <bootp file="pxelinux.0" server="10.20.0.2"/>
    </dhcp>
  </ip>
  <ip address="10.21.0.1" netmask="255.255.255.0"/>
  <route family="ipv4" address="10.30.0.0" prefix="24" gateway="10.20.0.2" metric="1"/>
  <route address="10.31.0.0" netmask="255.255.255.0" gateway="10.20.0.2"/>
  <virtualport type="openvswitch">
    <parameters managerid="1" typeid="2" typeidversion="3" instanceid="09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"
      profileid="p" interfaceid="09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"/>
  </virtualport>
  <portgroup name="pg" default="yes" trustGuestRxFilters="no">
    <vlan trunk="yes"><tag id="7" nativeMode="tagged"/></vlan>
    <virtualport type="openvswitch"><parameters managerid="1" typeid="2" typeidversion="3" instanceid="x" profileid="p" interfaceid="y"/></virtualport>
    <bandwidth><inbound average="1" peak="2" floor="1" burst="3"/><outbound average="1" peak="2" floor="1" burst="3"/></bandwidth>
  </portgroup>
</network>
"""


def test_everything_kvmweb_knows_passes_for_a_host_manager():
    assert problems(EVERYTHING, host_manager=True) == []


def test_the_sample_covers_every_allowed_element_and_attribute():
    """So the allow-list has no entry the test above does not exercise."""
    root = etree.fromstring(EVERYTHING.encode())
    seen = {}

    def walk(el, path):
        seen.setdefault(path, set()).update(el.attrib)
        if path == "metadata":
            return
        for child in el:
            walk(child, f"{path}/{child.tag}" if path else child.tag)

    walk(root, "")
    assert seen == ALLOWED


@pytest.mark.parametrize("case", sorted(p.stem for p in GOLDEN.glob("*.xml")))
def test_every_form_output_passes(case):
    assert problems((GOLDEN / f"{case}.xml").read_text(), host_manager=False) == []


@pytest.mark.parametrize("name", sorted(p.name for p in (GOLDEN / "libvirt").glob("*.xml")))
def test_what_libvirt_writes_passes(name):
    assert problems((GOLDEN / "libvirt" / name).read_text(), host_manager=False) == []


def test_dnsmasq_options_are_refused_even_for_a_host_manager():
    xml = """<network xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0">
      <name>n</name>
      <dnsmasq:options><dnsmasq:option value="dhcp-script=/tmp/evil"/></dnsmasq:options>
    </network>"""
    found = problems(xml, host_manager=True)
    assert len(found) == 1 and found[0].startswith("<dnsmasq:options> is not accepted")
    assert "runs as root" in found[0]


def test_other_namespaces_are_refused_with_their_uri():
    xml = (
        '<network xmlns:x="http://example.com/x"><name>n</name><x:thing/><ip x:flag="1" address="10.0.0.1"/></network>'
    )
    found = problems(xml, host_manager=True)
    assert found == [
        "<x:thing> in <network> is not accepted: elements of other XML namespaces (http://example.com/x) are not part of libvirt's network format.",
        "The attribute {http://example.com/x}flag on <ip> is not accepted: attributes of other namespaces are not libvirt's.",
    ]


def test_unknown_elements_and_attributes_are_named():
    xml = """<network colour="red"><name>n</name><forward mode="nat"><script path="/x"/></forward>
      <ip address="10.0.0.1" prefix="24"><dhcp><range start="10.0.0.2" end="10.0.0.9" script="x"/></dhcp></ip></network>"""
    assert problems(xml, host_manager=True) == [
        "The attribute colour= on <network> is not one kvmweb accepts; remove it.",
        "<script> in <forward> is not part of libvirt's network format as kvmweb knows it; remove it.",
        "The attribute script= on <ip/dhcp/range> is not one kvmweb accepts; remove it.",
    ]


def test_a_tftp_root_needs_the_right_to_manage_the_host():
    xml = '<network><name>n</name><ip address="10.0.0.1" prefix="24"><tftp root="/etc"/></ip></network>'
    found = problems(xml, host_manager=False)
    assert len(found) == 1 and "<ip><tftp root='…'>" in found[0] and "manage the host" in found[0]
    assert problems(xml, host_manager=True) == []


def test_metadata_is_kept_as_it_is():
    xml = '<network><name>n</name><metadata><a:b xmlns:a="http://a/"><c d="e"/></a:b></metadata></network>'
    assert problems(xml, host_manager=False) == []


def test_what_is_not_a_network_document():
    assert problems("<network><name>n</name>", host_manager=True)[0].startswith("The definition is not readable")
    assert problems("<domain><name>n</name></domain>", host_manager=True) == [
        "The definition is a <domain>; a network is defined by a <network> document."
    ]
    assert problems('<n:network xmlns:n="http://x/"/>', host_manager=True) == [
        "The definition is a <n:network>; a network is defined by a <network> document."
    ]
    assert (
        "DOCTYPE"
        in problems('<!DOCTYPE network [<!ENTITY e "x">]><network><name>&e;</name></network>', host_manager=True)[0]
    )


def test_comments_pass_and_processing_instructions_do_not():
    assert problems("<network><!-- lab --><name>n</name></network>", host_manager=False) == []
    assert "processing instruction" in problems("<network><?evil x?><name>n</name></network>", host_manager=False)[0]


def test_it_takes_text_bytes_an_element_or_a_typed_network():
    text = "<network><name>n</name><bogus/></network>"
    expected = problems(text, host_manager=False)
    assert len(expected) == 1
    assert problems(text.encode(), host_manager=False) == expected
    assert problems(etree.fromstring(text), host_manager=False) == expected
    assert problems(Network.parse(text), host_manager=False) == expected
