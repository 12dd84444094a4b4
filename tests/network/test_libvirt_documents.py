"""What libvirt 9.0 itself wrote for networks (`virsh net-dumpxml` on the test driver and on
qemu:///system, in golden/libvirt/): each parses and emits to the same document through the typed
class, an edit keeps what the class does not model, and the adapter reads its summary from it."""

from pathlib import Path
from uuid import uuid4

import pytest
from lxml import etree

from apps.network.virt import network_xml
from apps.network.virt import networks as network_virt
from tests.helpers import unique

GOLDEN = Path(__file__).parent / "golden" / "libvirt"


def canonical(xml):
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n")


def golden(name):
    return (GOLDEN / name).read_text()


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.xml")))
def test_what_libvirt_wrote_parses_and_emits_the_same_document(name):
    text = golden(name)
    emitted = network_xml.Network.parse(text).to_xml()
    assert canonical(emitted) == canonical(text)
    assert network_xml.Network.parse(emitted).to_xml() == emitted


def test_networks_read_from_what_libvirt_wrote():
    routed = network_xml.Network.parse(golden("network-qemu-routed.xml"))
    assert (routed.name, routed.mode, routed.forward_dev, routed.bridge, routed.stp) == (
        "kvmweb-golden-routed", "route", "eth0", "virbr-golden", True,
    )  # fmt: skip
    assert [(ip.family, ip.cidr) for ip in routed.ips] == [(None, "10.77.0.1/24"), ("ipv6", "fd00:77::1/64")]
    assert [(r.start, r.end) for r in routed.ips[0].dhcp_ranges] == [("10.77.0.100", "10.77.0.199")]
    nat = network_xml.Network.parse(golden("network-qemu-default.xml"))
    assert (nat.mode, nat.bridge, [ip.cidr for ip in nat.ips]) == ("nat", "virbr0", ["192.168.122.1/255.255.255.0"])
    assert network_xml.Network.parse(golden("network-test-isolated.xml")).mode == "isolated"


def test_an_edit_of_a_network_keeps_what_the_class_does_not_model():
    before = golden("network-qemu-routed.xml")
    net = network_xml.Network.parse(before)
    net.bridge = "virbr-other"
    net.ips[0].dhcp_ranges[0].end = "10.77.0.150"
    after = etree.fromstring(net.to_xml().encode(), etree.XMLParser(remove_blank_text=True))
    assert after.find("bridge").attrib == {"name": "virbr-other", "stp": "on", "delay": "0"}
    assert after.find("ip/dhcp/range").get("end") == "10.77.0.150"
    original = etree.fromstring(before.encode(), etree.XMLParser(remove_blank_text=True))
    for path in ("forward", "domain", "dns", "ip/dhcp/host", "route", "mac"):
        assert etree.tostring(after.find(path), method="c14n") == etree.tostring(original.find(path), method="c14n")
    assert after.get("ipv6") == "yes"


def test_list_networks_summarizes_each_through_the_typed_class(test_driver):
    defined = []
    try:
        for name in ("network-qemu-routed.xml", "network-test-isolated.xml"):
            doc = network_xml.Network.parse(golden(name))
            doc.name, doc.uuid = unique("kvmweb-net"), None
            doc.bridge = f"vbr{uuid4().hex[:8]}"  # a bridge name libvirt has not given out
            doc.mac = None
            defined.append(test_driver.networkDefineXML(doc.to_xml()))
        found = {s.name: s for s in network_virt.list_networks(test_driver)}
        routed, isolated = (found[net.name()] for net in defined)
        assert (routed.forward_mode, routed.addresses, routed.active, routed.persistent) == (
            "route", ["10.77.0.1/24", "fd00:77::1/64"], False, True,
        )  # fmt: skip
        assert routed.dhcp_ranges == [{"start": "10.77.0.100", "end": "10.77.0.199"}]
        assert (isolated.forward_mode, isolated.addresses) == ("isolated", [])
        assert found["default"].forward_mode == "nat" and found["default"].bridge == "virbr0"
    finally:
        for net in defined:
            net.undefine()
