"""Round trips through the typed model: every golden file parses and emits to the same text; what
libvirt itself writes (inactive and live definitions, snapshots) comes out with nothing lost; and an
edit changes what it names and keeps everything the classes do not model.
"""

from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import domains, lifecycle, xmledit
from apps.compute.virt.xml import (
    Channel,
    Console,
    Controller,
    Disk,
    Domain,
    Graphics,
    Interface,
    NodeDevice,
    Serial,
    Snapshot,
)
from apps.core.xml import XMLError
from tests.helpers import created_domains, unique

GOLDEN = Path(__file__).parents[1] / "golden"
CLASSES = {
    cls.TAG: cls
    for cls in (Domain, Disk, Interface, Graphics, Controller, Channel, Serial, Console, Snapshot, NodeDevice)
}
ALL_GOLDEN = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.xml"))
# What our classes emit, pinned to the byte; golden/libvirt/ holds what libvirt itself wrote
# (its quoting and spacing), which tests/compute/xml/test_libvirt_xml.py compares canonically.
GOLDEN_FILES = [name for name in ALL_GOLDEN if not name.startswith("libvirt/")]


def canonical(xml):
    """The document without insignificant whitespace, attribute order or quoting style."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n")


def test_every_kind_has_golden_files():
    tags = {etree.parse(str(GOLDEN / name)).getroot().tag for name in ALL_GOLDEN}
    assert tags == set(CLASSES)
    disks = [name for name in GOLDEN_FILES if name.startswith("devices/disk-")]
    types = {etree.parse(str(GOLDEN / name)).getroot().get("type") for name in disks}
    assert types == {"file", "block", "dir", "network", "volume"}


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_file_parses_and_emits_the_same_text(name):
    text = (GOLDEN / name).read_text()
    cls = CLASSES[etree.fromstring(text.encode()).tag]
    assert cls.parse(text).to_xml() == text


def test_a_wizard_document_reads_back_as_it_was_built():
    doc = Domain.parse((GOLDEN / "create-iso-uefi.xml").read_text())
    assert (doc.name, doc.memory_mib, doc.vcpus, doc.firmware, doc.machine) == (
        "golden-iso-uefi",
        1024,
        2,
        "efi",
        "q35",
    )
    assert doc.boot == ["cdrom", "hd"] and doc.os_id == "http://debian.org/debian/11"
    assert [(d.target, d.device, d.path, d.format, d.writable) for d in doc.disks] == [
        ("vda", "disk", "/var/lib/libvirt/images/golden-iso-uefi.qcow2", "qcow2", True),
        ("sda", "cdrom", "/var/lib/libvirt/isos/debian-11.iso", "raw", False),
    ]
    assert [(i.kind, i.source_name, i.model) for i in doc.interfaces] == [("network", "default", "virtio")]
    assert (doc.serial_console, doc.guest_agent, doc.tablet, doc.rng) == (True, True, True, True)
    assert (doc.video, doc.memballoon, doc.on_reboot) == ("virtio", "virtio", "destroy")


def every_device_domain(name):
    """A test-driver domain holding a device of each kind the model declares."""
    doc = Domain(name=name, memory_mib=64, domain_type="test", boot=())  # a disk has a boot order
    for path in sorted((GOLDEN / "devices").glob("*.xml")):
        text = path.read_text()
        doc.add_device(CLASSES[etree.fromstring(text.encode()).tag].parse(text))
    for path in sorted((GOLDEN / "nics").glob("*.xml")):
        doc.add_device(Interface.parse(path.read_text()))
    return doc


@pytest.mark.parametrize("live", [False, True], ids=["inactive", "live"])
def test_what_libvirt_writes_comes_back_with_nothing_lost(test_driver, live):
    """libvirt adds what the classes do not model (ids, implicit controllers and video,
    defaults); parse-then-emit keeps all of it."""
    ours = every_device_domain(unique("rt")).to_xml()
    uuid = domains.define(test_driver, ours)
    created_domains.append(uuid)
    domains.power(test_driver, uuid, "start")
    xml = xmledit.read(test_driver, uuid, live=live)
    assert canonical(xml) != canonical(ours)  # libvirt did add things we never wrote
    assert canonical(Domain.parse(xml).to_xml()) == canonical(xml)


def test_a_snapshot_libvirt_wrote_comes_back_with_nothing_lost(test_driver):
    uuid = domains.define(test_driver, every_device_domain(unique("rts")).to_xml())
    created_domains.append(uuid)
    dom = test_driver.lookupByUUIDString(uuid)
    snap = dom.snapshotCreateXML(Snapshot("before", "a description").to_xml(), 0)
    try:
        xml = snap.getXMLDesc(0)
        doc = Snapshot.parse(xml)
        assert (doc.name, doc.description, doc.state) == ("before", "a description", "shutoff")
        assert doc.domain is not None and doc.domain.name == dom.name()
        assert len(doc.domain.disks) == len(Domain.parse(dom.XMLDesc(0)).disks)
        assert canonical(doc.to_xml()) == canonical(xml)
    finally:
        snap.delete(0)


EXTRAS = """<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
  <name>web01</name>
  <uuid>6b1d3c52-2f0c-4b7e-9a51-0d5c3e7f9a10</uuid>
  <description>the shop's front end</description>
  <memory unit="KiB">1048576</memory>
  <currentMemory unit="KiB">524288</currentMemory>
  <vcpu placement="static" cpuset="0-3">2</vcpu>
  <sysinfo type="smbios">
    <system>
      <entry name="product">kvmweb</entry>
    </system>
  </sysinfo>
  <os>
    <type arch="x86_64" machine="pc-q35-7.2">hvm</type>
    <boot dev="hd"/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type="file" device="disk" future-attribute="kept">
      <driver name="qemu" type="qcow2" discard="unmap"/>
      <source file="/var/lib/libvirt/images/web01.qcow2" index="2">
        <seclabel model="dac" relabel="no"/>
      </source>
      <backingStore type="file" index="3">
        <format type="qcow2"/>
        <source file="/var/lib/libvirt/images/base.qcow2"/>
        <backingStore/>
      </backingStore>
      <target dev="vda" bus="virtio"/>
      <iotune>
        <total_iops_sec>500</total_iops_sec>
      </iotune>
      <future-element mode="kept"/>
      <alias name="virtio-disk0"/>
      <address type="pci" domain="0x0000" bus="0x04" slot="0x00" function="0x0"/>
    </disk>
    <controller type="usb" index="0" model="qemu-xhci" ports="15">
      <address type="pci" domain="0x0000" bus="0x02" slot="0x00" function="0x0"/>
    </controller>
    <interface type="network">
      <mac address="52:54:00:aa:bb:01"/>
      <source network="default"/>
      <target dev="vnet7"/>
      <model type="virtio"/>
      <bandwidth>
        <inbound average="1000"/>
      </bandwidth>
      <address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x0"/>
    </interface>
    <graphics type="vnc" port="5907" autoport="no" listen="127.0.0.1" passwd="s3cret">
      <listen type="address" address="127.0.0.1"/>
    </graphics>
  </devices>
  <qemu:commandline>
    <qemu:arg value="-no-hpet"/>
  </qemu:commandline>
</domain>
"""


def test_an_edit_changes_what_it_names_and_keeps_everything_else():
    before = etree.fromstring(EXTRAS.encode(), etree.XMLParser(remove_blank_text=True))
    doc = Domain.parse(EXTRAS)
    disk = doc.disk("vda")
    disk.path = "/var/lib/libvirt/images/web02.qcow2"
    disk.drop_backing_chain()
    doc.interface("52:54:00:AA:BB:01").mac = "52:54:00:12:34:56"
    doc.graphics[0].set(port=-1, autoport=True)
    doc.memory_mib = 2048
    doc.add_device(Disk(source="/dev/vg/web02-data", target="vdb", format="raw"))
    doc.add_device(Controller(type="scsi", index=0, model="virtio-scsi"))
    after = etree.fromstring(doc.to_xml().encode(), etree.XMLParser(remove_blank_text=True))

    # what was asked changed
    assert after.find("devices/disk/source").get("file") == "/var/lib/libvirt/images/web02.qcow2"
    assert after.find("devices/disk/backingStore") is None
    assert after.find("devices/interface/mac").get("address") == "52:54:00:12:34:56"
    assert (
        after.find("devices/graphics").get("port") == "-1" and after.find("devices/graphics").get("autoport") == "yes"
    )
    assert (after.find("memory").text, after.find("memory").get("unit")) == ("2048", "MiB")
    # new devices went where libvirt lists them: after the disks, before the NICs
    assert [el.tag for el in after.find("devices")] == [
        "emulator", "disk", "disk", "controller", "controller", "interface", "graphics",
    ]  # fmt: skip
    # everything else is as it was
    for path in (
        "description", "currentMemory", "vcpu", "sysinfo", "os",
        "devices/disk/driver", "devices/disk/source/seclabel", "devices/disk/target", "devices/disk/iotune",
        "devices/disk/future-element", "devices/disk/alias", "devices/disk/address",
        "devices/controller", "devices/interface/source", "devices/interface/target",
        "devices/interface/bandwidth", "devices/interface/address", "devices/graphics/listen",
        "{http://libvirt.org/schemas/domain/qemu/1.0}commandline",
    ):  # fmt: skip
        assert etree.tostring(after.find(path), method="c14n") == etree.tostring(before.find(path), method="c14n"), path
    assert after.find("devices/disk").get("future-attribute") == "kept"
    assert after.find("devices/disk/source").get("index") == "2"
    assert after.find("devices/graphics").get("passwd") == "s3cret"


def test_the_clone_rewrite_keeps_what_it_does_not_change():
    out = lifecycle.clone_xml(EXTRAS, name="web02", disks={"vda": "/dev/vg/web02"}, macs=["52:54:00:12:34:56"])
    doc = Domain.parse(out)
    disk = doc.disk("vda")
    assert (disk.type, disk.path, disk.source_file) == ("block", "/dev/vg/web02", None)
    assert disk.el.find("iotune/total_iops_sec").text == "500" and disk.el.find("future-element") is not None
    assert doc.uuid is None and doc.interfaces[0].target is None
    assert doc.interfaces[0].el.find("bandwidth/inbound").get("average") == "1000"
    assert doc.el.find("{http://libvirt.org/schemas/domain/qemu/1.0}commandline") is not None


def test_removing_a_value_removes_only_it():
    doc = Domain.parse(EXTRAS)
    graphics = doc.graphics[0]
    graphics.port = None
    assert graphics.el.get("port") is None and graphics.el.get("passwd") == "s3cret"
    cdrom = Disk(source="/iso/x.iso", target="sda", bus="sata", format="raw", device="cdrom")
    cdrom.path = None  # an empty drive: the <source> goes with its only attribute
    assert cdrom.el.find("source") is None and cdrom.readonly
    doc.description = None
    assert doc.el.find("description") is None


def test_wrong_documents_are_refused():
    with pytest.raises(XMLError, match="expected <disk>"):
        Disk.parse("<interface type='network'/>")
    with pytest.raises(XMLError, match="not well-formed"):
        Domain.parse("<domain><name>x</domain>")
    with pytest.raises(XMLError, match="DOCTYPE"):
        Domain.parse('<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><domain><name>&e;</name></domain>')


def test_lifecycle_reads_every_disk_through_the_typed_model(test_driver):
    """The clone and delete readers see network and volume disks for what they are."""
    doc = Domain(name=unique("rd"), memory_mib=64, domain_type="test", boot=())
    for case in ("disk-file", "disk-block", "disk-cdrom", "disk-network-rbd", "disk-volume", "disk-serial-boot"):
        doc.add_device(Disk.parse((GOLDEN / "devices" / f"{case}.xml").read_text()))
    uuid = domains.define(test_driver, doc.to_xml())
    created_domains.append(uuid)
    specs = {d.target: d for d in lifecycle.parse_disks(lifecycle.inactive_xml(test_driver, uuid))}
    assert {t: (d.type, d.source, d.writable) for t, d in specs.items()} == {
        "vda": ("file", "/var/lib/libvirt/images/web.qcow2", True),
        "vdb": ("block", "/dev/vg_vms/web-data", True),
        "sda": ("file", "/var/lib/libvirt/isos/debian-12.iso", False),  # a CD-ROM is shared
        "vdf": ("network", "libvirt-pool/web.img", False),  # on a Ceph cluster the VM does not own
        "vdi": ("volume", "san-direct/unit:0:0:1", True),
        "vde": ("file", "/var/lib/libvirt/images/db.img", False),  # shareable
    }
    assert (specs["vdi"].pool, specs["vdi"].volume, specs["vdi"].path) == ("san-direct", "unit:0:0:1", "")
