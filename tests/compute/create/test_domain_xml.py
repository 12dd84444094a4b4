"""What the create wizard defines, per install source and firmware: pinned by golden files and
accepted by libvirt itself (defineXML with VIR_DOMAIN_DEFINE_VALIDATE on the real QEMU driver,
then undefined).

The params come from the service's own plan (create_plan) for what a user would fill in, so the
files show the wizard's output, not a hand-built Domain. Set KVMWEB_UPDATE_GOLDEN=1 to rewrite the
files after an intended change, then review the diff.
"""

import os
from pathlib import Path

import pytest
from lxml import etree

from apps.compute.services import create_xml
from apps.compute.services.create import HostFacts, create_plan
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Graphics
from apps.hosts.virt.capabilities import HostLimits
from apps.network.models import VirtualNetwork
from apps.storage.models import StoragePool, StorageVolume

GOLDEN = Path(__file__).parents[1] / "golden"
SOURCES = ["iso", "tree", "pxe", "import"]
FIRMWARES = ["bios", "uefi"]
FIXED_UUID = "6b1d3c52-2f0c-4b7e-9a51-0d5c3e7f9a10"
KVM = HostFacts(
    limits=HostLimits(domain_type="kvm", arch="x86_64", max_vcpus=255, efi=True),
    networks=[VirtualNetwork(name="default", active=True, autostart=True, forward_mode="nat", bridge="virbr0")],
)


@pytest.fixture
def storage(demo_host):
    images = StoragePool.objects.create(
        host=demo_host, uuid="6b1d3c52-0000-4000-8000-000000000001", name="images", pool_type="dir",
        state="running", capacity=100 << 30, available=80 << 30, target_path="/var/lib/libvirt/images",
    )  # fmt: skip
    isos = StoragePool.objects.create(
        host=demo_host, uuid="6b1d3c52-0000-4000-8000-000000000002", name="isos", pool_type="dir",
        state="running", target_path="/var/lib/libvirt/isos", is_iso_library=True,
    )  # fmt: skip
    iso = StorageVolume.objects.create(
        pool=isos, name="debian-11.iso", key="k1", path="/var/lib/libvirt/isos/debian-11.iso", format="raw"
    )
    disk = StorageVolume.objects.create(
        pool=images, name="appliance.qcow2", key="k2", path="/var/lib/libvirt/images/appliance.qcow2",
        format="qcow2", capacity=8 << 30,
    )  # fmt: skip
    return {"images": images, "iso": iso, "disk": disk}


def wizard_params(admin, host, storage, source, firmware):
    """What a user picks for a Debian 11 guest with each install source."""
    kwargs = {
        "iso": {"iso": storage["iso"], "disk_pool": storage["images"], "disk_gib": 20},
        "tree": {
            "tree_url": "http://deb.debian.org/debian/dists/bullseye/main/installer-amd64/",
            "kernel_args": "auto=true priority=critical url=http://192.0.2.10/preseed.cfg",
            "disk_pool": storage["images"],
            "disk_gib": 20,
        },
        "pxe": {"disk_pool": storage["images"], "disk_gib": 20},
        "import": {"import_volume": storage["disk"]},
    }[source]
    params = create_plan(
        actor=admin, host=host, facts=KVM, name=f"golden-{source}-{firmware}", memory_mib=1024, vcpus=2,
        source=source, os_id="debian11", network="default", graphics="vnc", listen="127.0.0.1",
        firmware="efi" if firmware == "uefi" else "bios", start=True, **kwargs,
    )  # fmt: skip
    params["uuid"] = FIXED_UUID
    return params


def wizard_xml(params):
    images = {"kernel": "/var/lib/libvirt/images/vm.vmlinuz", "initrd": "/var/lib/libvirt/images/vm.initrd"}
    return create_xml.install_xml(params, **(images if params["source"] == "tree" else {}))


@pytest.mark.parametrize("firmware", FIRMWARES)
@pytest.mark.parametrize("source", SOURCES)
def test_wizard_output_matches_the_golden_file(source, firmware, demo_host, admin, storage):
    xml = wizard_xml(wizard_params(admin, demo_host, storage, source, firmware))
    golden = GOLDEN / f"create-{source}-{firmware}.xml"
    if os.environ.get("KVMWEB_UPDATE_GOLDEN"):
        golden.write_text(xml)
    assert xml == golden.read_text()


@pytest.mark.parametrize("firmware", FIRMWARES)
@pytest.mark.parametrize("source", SOURCES)
def test_libvirt_accepts_each_golden_file(source, firmware, qemu_conn):
    xml = (GOLDEN / f"create-{source}-{firmware}.xml").read_text()
    uuid = domains.define(qemu_conn, xml, validate=True)
    try:
        assert uuid == FIXED_UUID
        dom = etree.fromstring(qemu_conn.lookupByUUIDString(uuid).XMLDesc(0))
        # libvirt kept what matters: the firmware choice and the OS variant
        assert (dom.find("os").get("firmware") == "efi") == (firmware == "uefi")
        assert dom.find(".//{http://libosinfo.org/xmlns/libvirt/domain/1.0}os").get("id") == (
            "http://debian.org/debian/11"
        )
    finally:
        domains.undefine(qemu_conn, uuid)


def test_each_source_boots_as_virt_install_would(demo_host, admin, storage):
    root = {
        s: etree.fromstring(wizard_xml(wizard_params(admin, demo_host, storage, s, "bios")).encode()) for s in SOURCES
    }
    boots = {s: [b.get("dev") for b in r.findall("os/boot")] for s, r in root.items()}
    assert boots == {"iso": ["cdrom", "hd"], "tree": [], "pxe": ["network", "hd"], "import": ["hd"]}
    tree = root["tree"].find("os")
    assert tree.findtext("kernel") == "/var/lib/libvirt/images/vm.vmlinuz"
    assert "url=http://192.0.2.10/preseed.cfg" in tree.findtext("cmdline")
    # the installer's reboot ends the install phase instead of starting the installer again
    assert root["tree"].findtext("on_reboot") == "destroy"
    assert root["import"].findtext("on_reboot") == "restart"
    cdrom = root["iso"].find("devices/disk[@device='cdrom']")
    assert cdrom.find("source").get("file") == "/var/lib/libvirt/isos/debian-11.iso"
    assert root["import"].find("devices/disk/source").get("file") == "/var/lib/libvirt/images/appliance.qcow2"


def test_final_phase_boots_from_the_disk(demo_host, admin, storage):
    for source in ("iso", "tree", "pxe"):
        final = etree.fromstring(create_xml.final_xml(wizard_params(admin, demo_host, storage, source, "bios")))
        assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"], source
        assert final.find("os/kernel") is None
        assert final.findtext("on_reboot") == "restart"


def test_an_os_without_virtio_gets_sata_and_e1000(demo_host, admin, storage):
    params = wizard_params(admin, demo_host, storage, "iso", "bios")
    params["os_id"] = "http://microsoft.com/win/10"
    root = etree.fromstring(create_xml.install_xml(params))
    assert root.find("devices/disk[@device='disk']/target").get("bus") == "sata"
    assert root.find("devices/interface/model").get("type") == "e1000"
    assert root.find("devices/rng") is None
    assert root.find("clock").get("offset") == "localtime"


def test_the_basic_constructor_still_emits_the_plain_document():
    xml = Domain(
        name="plain", memory_mib=64, vcpus=1, domain_type="test",
        disks=[Disk(source="/x.qcow2")], graphics=[Graphics()],
    ).to_xml()  # fmt: skip
    root = etree.fromstring(xml)
    assert root.find("metadata") is None and root.find("os").get("firmware") is None
    assert [c.tag for c in root.find("devices")] == ["disk", "graphics"]
    assert root.findtext("on_reboot") == "restart"
