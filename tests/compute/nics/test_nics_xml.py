"""NIC XML: each kind pinned by a golden file, valid against libvirt's domain schema, and read
back by libvirt's own parser (a domain defined on the test driver) with the fields intact.

Set KVMWEB_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import os
from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import domains, nics
from apps.compute.virt.xml import Disk, Domain, Interface
from apps.compute.virt.xml.devices import NicError, normalize_mac
from tests.helpers import created_domains, unavailable, unique

GOLDEN = Path(__file__).parents[1] / "golden" / "nics"
SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")

CASES = {
    "network": Interface(network="default", model="virtio"),
    "network-mac-link-down": Interface(
        kind="network", source="lab", model="e1000e", mac="52:54:00:ab:cd:ef", link="down"
    ),
    "bridge": Interface(kind="bridge", source="br0", model="rtl8139"),
    "macvtap-vepa": Interface(kind="direct", source="eth0", mode="vepa"),
    "macvtap-passthrough": Interface(kind="direct", source="eth1", mode="passthrough", mac="52:54:00:00:00:02"),
    "ovs": Interface(kind="ovs", source="ovsbr0", model="virtio"),
}


def _xml(iface):
    return etree.tostring(iface.to_element(), pretty_print=True, encoding="unicode")


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_kind_matches_its_golden_file_and_libvirts_schema(name):
    iface = CASES[name].validate()
    xml = _xml(iface)
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("KVMWEB_UPDATE_GOLDEN"):
        path.write_text(xml)
    assert xml == path.read_text()
    if not SCHEMA.exists():
        unavailable(f"{SCHEMA} is not installed (libvirt-daemon ships it)")
    domain = Domain(name="golden", memory_mib=64, domain_type="test", interfaces=[iface]).to_element()
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(domain), schema.error_log.last_error


def test_the_create_wizard_constructor_still_gives_a_network_nic():
    el = Interface("default", "virtio", None).to_element()
    assert el.get("type") == "network" and el.find("source").get("network") == "default"
    assert el.find("mac") is None and el.find("model").get("type") == "virtio"


def test_libvirt_reads_every_kind_back(test_driver):
    """A test-driver domain with one NIC of each kind: libvirt's parser keeps type, source, mode,
    model, MAC, virtualport and link as written."""
    spec = Domain(
        name=unique("nics"),
        memory_mib=64,
        domain_type="test",
        disks=[Disk(source="/var/lib/libvirt/images/nics.qcow2")],
        interfaces=[CASES[n].validate() for n in sorted(CASES)],
    )
    uuid = domains.define(test_driver, spec.to_xml())
    created_domains.append(uuid)
    got = nics.list_nics(test_driver, uuid, inactive=True)
    assert [(n.kind, n.source, n.mode, n.model, n.link) for n in got] == [
        ("bridge", "br0", "", "rtl8139", "up"),
        ("direct", "eth1", "passthrough", "virtio", "up"),
        ("direct", "eth0", "vepa", "virtio", "up"),
        ("network", "default", "", "virtio", "up"),
        ("network", "lab", "", "e1000e", "down"),
        ("ovs", "ovsbr0", "", "virtio", "up"),
    ]
    assert got[1].mac == "52:54:00:00:00:02" and got[4].mac == "52:54:00:ab:cd:ef"
    assert all(n.mac for n in got)  # libvirt generated the ones not given


@pytest.mark.parametrize(
    "mac, says",
    [
        ("52:54:00:12:34", "not a MAC"),
        ("52:54:00:12:34:5g", "not a MAC"),
        ("52:54:00:12:34:56:78", "not a MAC"),
        ("01:00:5e:00:00:01", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast"),
        ("00:00:00:00:00:00", "not a usable"),
        ("52:54:00:12:34:56<x>", "not a MAC"),
    ],
)
def test_bad_macs_are_refused(mac, says):
    with pytest.raises(NicError, match=says):
        normalize_mac(mac)


def test_macs_are_normalized_and_empty_means_libvirt_picks():
    assert normalize_mac("52-54-00-AB-CD-EF") == "52:54:00:ab:cd:ef"
    assert normalize_mac("") is None and normalize_mac(None) is None


@pytest.mark.parametrize(
    "iface, says",
    [
        (Interface(kind="bridge", source="br 0"), "not a valid bridge name"),
        (Interface(kind="bridge", source="br/0"), "not a valid bridge name"),
        (Interface(kind="ovs", source="a-name-longer-than-15"), "not a valid bridge name"),
        (Interface(kind="bridge", source=".."), "not a valid bridge name"),
        (Interface(kind="bridge", source=""), "not a valid bridge name"),
        (Interface(kind="direct", source="eth0", mode="bogus"), "Unknown macvtap mode"),
        (Interface(kind="direct", source="eth 0", mode="vepa"), "host interface"),
        (Interface(kind="network", source="a/b"), "not a libvirt network"),
        (Interface(kind="network", source="<x>"), "not a libvirt network"),
        (Interface(kind="tap", source="x"), "Unknown NIC type"),
        (Interface(model="ne2k_pci"), "Unknown NIC model"),
        (Interface(link="sideways"), "up or down"),
    ],
)
def test_bad_nic_input_is_refused(iface, says):
    with pytest.raises(NicError, match=says):
        iface.validate()
