"""Device XML of every kind the typed model declares (disks of every source type, graphics,
controllers, channels, serial ports, consoles): each built one pinned by a golden file, valid
against libvirt's domain schema, and read back by libvirt's own parser (the test driver, with
schema validation on) with the typed fields intact.

Set KVMWEB_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import os
from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import domains, xmledit
from apps.compute.virt.xml import (
    Channel,
    Console,
    Controller,
    Disk,
    DiskAuth,
    DiskHost,
    Domain,
    Graphics,
    PoolSource,
    Serial,
    disk_for_volume,
)
from tests.helpers import created_domains, unique

GOLDEN = Path(__file__).parents[1] / "golden" / "devices"
SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")
CEPH_SECRET = "2ec115d7-3a88-3ceb-bc12-0ac909a6fd87"
CEPH = PoolSource(
    hosts=(("mon1.example.com", 6789), ("mon2.example.com", None), ("2001:db8::3", 6789)),
    name="libvirt-pool",
    auth_type="ceph",
    auth_username="libvirt",
    secret_uuid=CEPH_SECRET,
)
GLUSTER = PoolSource(hosts=(("gluster1.example.com", None),), name="gv0", dir="/vms")


def dir_disk():
    """A host directory shown to the guest as a read-only FAT disk (QEMU's vvfat)."""
    return Disk(target="sdc", bus="usb", format="fat", readonly=True, type="dir", source_dir="/srv/floppy")


def iscsi_disk():
    """A LUN reached by QEMU's own iSCSI initiator, logging in with CHAP."""
    disk = Disk(target="sdd", bus="scsi", format="raw", device="lun")
    disk.set(type="network", protocol="iscsi", source_name="iqn.2024-01.com.example:storage.lun2/1")
    disk.hosts = [DiskHost(name="192.0.2.10", port=3260)]
    disk.initiator_iqn = "iqn.2024-01.com.example:hv1"
    disk.auth = DiskAuth(username="hv1", secret_type="iscsi", secret_usage="san-hv1")
    return disk


def volume(pool_type, **kwargs):
    return disk_for_volume(pool_type=pool_type, format=kwargs.pop("format", "raw"), **kwargs)


CASES = {
    "disk-file": lambda: Disk(source="/var/lib/libvirt/images/web.qcow2"),
    "disk-block": lambda: Disk(source="/dev/vg_vms/web-data", target="vdb", format="raw"),
    "disk-dir": dir_disk,
    "disk-cdrom": lambda: Disk(
        source="/var/lib/libvirt/isos/debian-12.iso", target="sda", bus="sata", format="raw", device="cdrom"
    ),  # fmt: skip
    "disk-cdrom-empty": lambda: Disk(target="sdb", bus="sata", format="raw", device="cdrom"),
    "disk-serial-boot": lambda: Disk(
        source="/var/lib/libvirt/images/db.img",
        target="vde",
        format="raw",
        cache="none",
        serial="DB-0001",
        boot_order=1,
        shareable=True,
    ),  # fmt: skip
    "disk-network-rbd": lambda: volume(
        "rbd",
        pool_name="ceph-vms",
        volume_name="web.img",
        path="libvirt-pool/web.img",
        pool_source=CEPH,
        target="vdf",
    ),  # fmt: skip
    "disk-network-rbd-usage": lambda: volume(
        "rbd",
        pool_name="ceph-vms",
        volume_name="db.img",
        path="libvirt-pool/db.img",
        target="vdg",
        pool_source=PoolSource(
            hosts=(("mon1.example.com", None),),
            name="libvirt-pool",
            auth_type="ceph",
            auth_username="libvirt",
            secret_usage="client.libvirt secret",
        ),
    ),  # fmt: skip
    "disk-network-gluster": lambda: volume(
        "gluster",
        pool_name="gluster-vms",
        volume_name="web.qcow2",
        format="qcow2",
        path="gluster://gluster1.example.com/gv0/vms/web.qcow2",
        pool_source=GLUSTER,
        target="vdh",
    ),  # fmt: skip
    "disk-network-iscsi": iscsi_disk,
    "disk-volume": lambda: volume(
        "iscsi-direct",
        pool_name="san-direct",
        volume_name="unit:0:0:1",
        path="ip-192.0.2.10:3260-iscsi-lun-1",
        target="vdi",
    ),  # fmt: skip
    "graphics-vnc": lambda: Graphics(),
    "graphics-spice": lambda: Graphics(type="spice", listen="0.0.0.0", port=5930),
    "controller-usb": lambda: Controller(type="usb", index=0, model="qemu-xhci", ports=15),
    "controller-virtio-serial": lambda: Controller(type="virtio-serial", index=0),
    "channel-guest-agent": lambda: Channel(type="unix", target_type="virtio", target_name="org.qemu.guest_agent.0"),
    "channel-spice": lambda: Channel(type="spicevmc", target_type="virtio", target_name="com.redhat.spice.0"),
    "serial-pty": lambda: Serial(type="pty", target_port=0),
    "serial-tcp": lambda: Serial(
        type="tcp", source_mode="bind", source_host="127.0.0.1", source_service="4555", target_port=1
    ),
    "console-pty": lambda: Console(type="pty", target_type="serial", target_port=0),
}


def domain_with(*devices, name="golden-devices"):
    """A minimal test-driver domain holding the given devices."""
    doc = Domain(name=name, memory_mib=64, domain_type="test", boot=())
    for device in devices:
        doc.add_device(device)
    return doc


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_device_matches_its_golden_file(case):
    xml = CASES[case]().to_xml()
    path = GOLDEN / f"{case}.xml"
    if os.environ.get("KVMWEB_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(xml)
    assert xml == path.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_golden_device_is_valid_for_libvirts_schema(case):
    assert SCHEMA.exists(), f"{SCHEMA} is missing: libvirt-daemon ships it"
    device = type(CASES[case]()).parse((GOLDEN / f"{case}.xml").read_text())
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(domain_with(device).el), schema.error_log.last_error


def test_libvirt_reads_every_disk_source_back(test_driver):
    """All the disks in one domain, defined with schema validation on the test driver: libvirt's
    parser keeps each source as written, read back through the typed Disk."""
    written = [CASES[c]() for c in sorted(CASES) if c.startswith("disk-")]
    uuid = domains.define(test_driver, domain_with(*written, name=unique("disks")).to_xml(), validate=True)
    created_domains.append(uuid)
    back = {d.target: d for d in Domain.parse(xmledit.read(test_driver, uuid)).disks}
    fields = ("type", "device", "format", "path", "source", "protocol", "pool", "volume", "bus", "readonly",
              "shareable", "serial", "boot_order", "initiator_iqn")  # fmt: skip
    for disk in written:
        got = back[disk.target]
        assert {f: getattr(got, f) for f in fields} == {f: getattr(disk, f) for f in fields}, disk.target
        default_port = {"gluster": 24007}.get(disk.protocol)  # libvirt writes Gluster's own default
        assert [(h.name, h.port) for h in got.hosts] == [(h.name, h.port or default_port) for h in disk.hosts]
        auth = (
            (disk.auth.username, disk.auth.secret_type, disk.auth.secret_uuid, disk.auth.secret_usage)
            if disk.auth
            else None
        )
        got_auth = (
            (got.auth.username, got.auth.secret_type, got.auth.secret_uuid, got.auth.secret_usage) if got.auth else None
        )
        assert got_auth == auth, disk.target


def test_libvirt_reads_the_other_devices_back(test_driver):
    devices = [CASES[c]() for c in sorted(CASES) if not c.startswith("disk-")]
    uuid = domains.define(test_driver, domain_with(*devices, name=unique("devs")).to_xml(), validate=True)
    created_domains.append(uuid)
    back = Domain.parse(xmledit.read(test_driver, uuid))
    assert [(g.type, g.listen, g.port, g.autoport) for g in back.graphics] == [
        ("spice", "0.0.0.0", 5930, False),
        ("vnc", "127.0.0.1", -1, True),
    ]
    assert {(c.type, c.index, c.model) for c in back.controllers} >= {
        ("usb", 0, "qemu-xhci"),
        ("virtio-serial", 0, None),
    }
    assert [(c.type, c.target_name) for c in back.channels] == [
        ("unix", "org.qemu.guest_agent.0"),
        ("spicevmc", "com.redhat.spice.0"),
    ]
    assert back.guest_agent
    assert [(s.type, s.target_port, s.source_host, s.source_service) for s in back.serials] == [
        ("pty", 0, None, None),
        ("tcp", 1, "127.0.0.1", "4555"),
    ]
    assert [(c.type, c.target_type) for c in back.consoles] == [("pty", "serial")]


def test_qemu_accepts_every_disk_source(qemu_conn):
    """The real QEMU driver's parser and post-parse checks take each disk (defined, never started:
    the rbd and gluster servers do not exist here)."""
    doc = Domain(name=unique("kvmweb-disks"), memory_mib=64, domain_type="qemu", boot=())
    for case in sorted(CASES):
        if case.startswith("disk-"):
            doc.add_device(CASES[case]())
    uuid = domains.define(qemu_conn, doc.to_xml(), validate=True)
    try:
        kinds = {d.target: (d.type, d.protocol) for d in Domain.parse(xmledit.read(qemu_conn, uuid)).disks}
        assert kinds["vdf"] == ("network", "rbd") and kinds["vdh"] == ("network", "gluster")
        assert kinds["vdi"] == ("volume", None) and kinds["sdc"] == ("dir", None)
    finally:
        domains.undefine(qemu_conn, uuid)
