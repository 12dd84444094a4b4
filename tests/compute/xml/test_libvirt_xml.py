"""Domain XML as libvirt itself writes it, read and edited through the typed model.

golden/libvirt/ holds documents captured from libvirt 9.0 (`virsh dumpxml --inactive [--security-info]`
and `virsh nodedev-dumpxml`) on the test driver and on qemu:///system: a domain with a title, a
two-line description, the libosinfo OS id, a boot order with a menu, vCPUs below their maximum,
VNC and SPICE passwords and a <qemu:commandline>; a net and a system node device. Each parses and
emits to the same document, and the adapters read and change them through the typed classes:
settings (vCPUs, memory, boot order and menu, title, description), the inventory's configuration
fields, the boot edit (which keeps everything it does not name), the passwords an XML edit keeps,
and the masking of every display password before anything reaches the audit log.
"""

from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import domains, nics, settings, xmledit
from apps.compute.virt.xml import Disk, Domain, Graphics, NodeDevice, Snapshot
from apps.core.errors import VirtError
from tests.helpers import created_domains, unique

LIBVIRT = Path(__file__).parents[1] / "golden" / "libvirt"
CLASSES = {cls.TAG: cls for cls in (Domain, NodeDevice)}
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
PASSWORDS = ("vncS3cr8", "golden-spice-secret")  # what domain-qemu-secure.xml holds


def golden(name):
    return (LIBVIRT / name).read_text()


def canonical(xml):
    """The document without insignificant whitespace, attribute order or quoting style."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n")


def children(xml):
    """{tag: canonical element} of a document's top-level children (the last of each tag)."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    return {el.tag: etree.tostring(el, method="c14n") for el in root}


@pytest.mark.parametrize("name", sorted(p.name for p in LIBVIRT.glob("*.xml")))
def test_what_libvirt_wrote_parses_and_emits_the_same_document(name):
    text = golden(name)
    doc = CLASSES[etree.fromstring(text.encode()).tag].parse(text)
    emitted = doc.to_xml()
    assert canonical(emitted) == canonical(text)
    assert type(doc).parse(emitted).to_xml() == emitted  # and our own output is a fixed point


@pytest.mark.parametrize("name", ["domain-test.xml", "domain-qemu.xml"])
def test_metadata_os_and_boot_read_from_libvirts_xml(name):
    doc = Domain.parse(golden(name))
    assert (doc.title, doc.description) == ("Golden web server", "Captured for the round-trip tests\nsecond line")
    assert doc.os_id == "http://debian.org/debian/12"
    assert (doc.vcpus, doc.vcpus_current) == (2, 1)
    assert (doc.memory_kib, doc.current_memory_kib, doc.memory_mib) == (1048576, 524288, 1024)
    assert (doc.boot, doc.boot_menu, doc.boot_menu_timeout) == (["cdrom", "hd"], True, 3000)
    assert doc.device_boot_orders == [] and doc.has_os and not doc.has_nvram


def test_memory_in_any_unit_libvirt_reads():
    doc = Domain(name="m", memory_mib=1)
    for unit, value, kib in (("GiB", 2, 2 << 20), ("g", 1, 1 << 20), ("MB", 1000, 976562), ("bytes", 4096, 4)):
        doc.memory, doc.memory_unit = value, unit
        assert doc.memory_kib == kib, unit
    doc.memory, doc.memory_unit = 512, None  # KiB when no unit is written
    assert doc.memory_kib == 512
    doc.memory_unit = "furlongs"
    assert doc.memory_kib is None


def test_node_devices_read_from_libvirts_xml():
    net = NodeDevice.parse(golden("nodedev-qemu-net.xml"))
    assert (net.name, net.capability, net.interface, net.mac) == (
        "net_eth0_02_fc_00_00_00_01", "net", "eth0", "02:fc:00:00:00:01",
    )  # fmt: skip
    computer = NodeDevice.parse(golden("nodedev-qemu-computer.xml"))
    assert (computer.capability, computer.interface) == ("system", None)


# -- the boot edit: take the saved XML, change it through the model, redefine -------------------


def test_the_boot_edit_changes_boot_and_menu_and_keeps_everything_else():
    before = golden("domain-qemu.xml")
    after = settings.boot_xml(before, boot=["network", "hd"], bootmenu=False)
    doc = Domain.parse(after)
    assert (doc.boot, doc.boot_menu) == (["network", "hd"], False)
    assert doc.boot_menu_timeout == 3000  # an attribute the edit does not name stays
    assert [el.tag for el in doc.el.find("os")] == ["type", "boot", "boot", "bootmenu"]  # libvirt's order
    old, new = children(before), children(after)
    assert old.keys() == new.keys()
    assert {tag for tag in old if old[tag] != new[tag]} == {"os"}
    assert f"{{{QEMU_NS}}}commandline" in new  # QEMU pass-through the classes do not model


def test_the_boot_edit_replaces_per_device_boot_orders():
    doc = Domain.parse(golden("domain-test.xml"))
    doc.boot = []
    doc.disk("vda").boot_order = 1
    doc.interfaces[0].boot_order = 2
    assert doc.device_boot_orders == [("disk", "1"), ("interface", "2")]
    after = Domain.parse(settings.boot_xml(doc.to_xml(), boot=["hd"], bootmenu=True))
    assert after.device_boot_orders == [] and after.boot == ["hd"] and after.boot_menu is True
    assert after.disk("vda").path == "/var/lib/libvirt/images/golden.qcow2"  # the disk itself stays


def test_the_boot_edit_refuses_a_domain_without_os():
    with pytest.raises(VirtError, match="no <os> element"):
        settings.boot_xml("<domain type='test'><name>x</name></domain>", boot=["hd"], bootmenu=False)


def test_settings_title_and_boot_edits_on_the_test_driver_keep_what_they_do_not_name(test_driver):
    """Define the captured domain, read its settings through the adapter, change its boot order
    the way the settings runner does (saved XML with secrets, typed edit, redefine), and find
    everything else (metadata, title, description, the VNC password) still there."""
    doc = Domain.parse(golden("domain-test.xml"))
    doc.name, doc.uuid = unique("golden"), None
    doc.graphics[0].passwd = "keepme"
    uuid = domains.define(test_driver, doc.to_xml())
    created_domains.append(uuid)
    found = settings.read(test_driver, uuid)
    assert (found.vcpus, found.max_vcpus, found.memory_kib, found.max_memory_kib) == (1, 2, 524288, 1048576)
    assert (found.boot, found.bootmenu, found.device_boot_order) == (["cdrom", "hd"], True, False)
    assert (found.title, found.description) == ("Golden web server", "Captured for the round-trip tests\nsecond line")
    info = domains.domain_info(test_driver, uuid)
    assert (info.title, info.os_variant) == ("Golden web server", "http://debian.org/debian/12")

    xmledit.redefine(
        test_driver, uuid, settings.boot_xml(xmledit.secure_inactive(test_driver, uuid), boot=["hd"], bootmenu=False)
    )
    after = Domain.parse(xmledit.secure_inactive(test_driver, uuid))
    assert (after.boot, after.boot_menu) == (["hd"], False)
    assert (after.title, after.os_id, after.vcpus_current) == ("Golden web server", "http://debian.org/debian/12", 1)
    assert after.graphics[0].passwd == "keepme"
    assert settings.read(test_driver, uuid).boot == ["hd"]


# -- passwords -------------------------------------------------------------------------------


def test_mask_hides_every_display_password_and_changes_nothing_else():
    text = golden("domain-qemu-secure.xml")
    masked = xmledit.mask(text)
    assert not any(secret in masked for secret in PASSWORDS)
    doc = Domain.parse(masked)
    assert [(g.type, g.passwd) for g in doc.graphics] == [("vnc", "***"), ("spice", "***")]
    expected = Domain.parse(text)
    for graphics in expected.graphics:
        graphics.passwd = "***"
    assert canonical(masked) == canonical(expected.to_xml())
    # Read without the secure flag, libvirt leaves them out, and so does the mask.
    assert "passwd" not in xmledit.mask(golden("domain-qemu.xml"))


def test_mask_finds_passwords_of_any_display_type_and_inside_snapshots():
    doc = Domain(name="rdp", memory_mib=64, domain_type="test")
    for kind in ("vnc", "spice", "rdp"):
        graphics = Graphics(type=kind, listen="127.0.0.1")
        graphics.passwd = f"{kind}-pw"
        doc.add_device(graphics)
    masked = Domain.parse(xmledit.mask(doc.to_xml()))
    assert [g.passwd for g in masked.graphics] == ["***"] * 3
    assert [g.listen for g in masked.graphics] == ["127.0.0.1"] * 3  # <listen> holds no password

    # A running domain's snapshot holds the domain and, when it differs, its saved definition.
    snap = Snapshot("before")
    snap.domain = Domain.parse(golden("domain-qemu-secure.xml"))
    saved = Domain.parse(golden("domain-qemu-secure.xml")).el
    saved.tag = "inactiveDomain"
    snap.el.append(saved)
    assert Snapshot.parse(snap.to_xml()).inactive_domain.graphics[0].passwd == "vncS3cr8"
    out = xmledit.mask(snap.to_xml())
    assert not any(secret in out for secret in PASSWORDS) and out.count('passwd="***"') == 4


def test_mask_keeps_nothing_of_text_that_is_not_xml():
    out = xmledit.mask("<domain><graphics passwd='hunter2'>")
    assert out == xmledit.NOT_KEPT and "hunter2" not in out


def test_an_edit_keeps_the_passwords_it_could_not_see():
    secure = Domain.parse(golden("domain-qemu-secure.xml"))
    edited = Domain.parse(golden("domain-qemu.xml"))  # what the XML tab shows: no passwords
    edited.graphics[1].passwd = "typed-anew"  # one the user did type stays theirs
    xmledit.keep_passwords(edited, secure)
    assert [(g.type, g.passwd) for g in edited.graphics] == [("vnc", "vncS3cr8"), ("spice", "typed-anew")]


def test_the_diff_shows_what_changed_not_how_it_was_quoted():
    before = golden("domain-qemu-secure.xml")
    root = etree.fromstring(before.encode())  # re-serialized: double quotes, other spacing
    root.find("description").text = "changed"
    diff = xmledit.diff(before, etree.tostring(root, encoding="unicode"))
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-  <description>Captured for the round-trip tests",
        "-second line</description>",
        "+  <description>changed</description>",
    ]
    assert not any(secret in diff for secret in PASSWORDS)


# -- the XML tab's checks, through the model -----------------------------------------------------


def test_parse_checks_a_libvirt_document_and_returns_its_root():
    text = golden("domain-qemu.xml")
    doc = Domain.parse(text)
    root = xmledit.parse(text, uuid=doc.uuid.upper(), name=doc.name)
    assert root.tag == "domain" and Domain.wrap(root).os_id == "http://debian.org/debian/12"
    with pytest.raises(xmledit.XmlInputError, match="DOCTYPE is not allowed"):
        xmledit.parse("<!DOCTYPE domain>" + text, uuid=doc.uuid, name=doc.name)
    with pytest.raises(xmledit.XmlInputError, match="not well-formed XML"):
        xmledit.parse(text[:-20], uuid=doc.uuid, name=doc.name)
    with pytest.raises(xmledit.XmlInputError, match="root element must be <domain>"):
        xmledit.parse(golden("nodedev-qemu-net.xml"), uuid=doc.uuid, name=doc.name)


def test_host_interfaces_are_read_through_the_node_device_class(qemu_conn):
    """The NICs form's macvtap and bridge suggestions, from libvirt's node devices."""
    names = nics.host_interfaces(qemu_conn)
    assert names == sorted(set(names)) and "lo" in names
    cap_net = [NodeDevice.parse(d.XMLDesc(0)).interface for d in qemu_conn.listAllDevices(0)]
    assert set(names) == {name for name in cap_net if name}


def test_disk_driver_flag_reads_the_element():
    assert Disk(source="/iso/x.iso", device="cdrom", format="raw").has_driver
    bare = Disk.parse("<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>")
    assert not bare.has_driver
