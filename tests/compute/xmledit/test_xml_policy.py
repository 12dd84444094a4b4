"""What a VM-level right may not do through hand-written XML (the XML tab, define from XML): hand
the guest a host file, pass arguments to QEMU, swap the emulator, add host devices — each refused
with a reason before anything is queued; ordinary edits and volumes of usable pools still pass."""

import pytest
from lxml import etree

from apps.compute import xmlpolicy
from apps.compute.services import xmledit as services
from apps.compute.virt import xmledit
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.storage.models import StoragePool, StorageVolume
from tests.helpers import make_vm

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


@pytest.fixture
def queue_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _edit(vm, change):
    root = etree.fromstring(xmledit.read(connection.get(vm.host.uri), str(vm.uuid)))
    change(root)
    return etree.tostring(root, encoding="unicode")


def _add_disk(path, target="vdz"):
    def change(root):
        disk = etree.SubElement(root.find("devices"), "disk", type="file", device="disk")
        etree.SubElement(disk, "source", file=path)
        etree.SubElement(disk, "target", dev=target, bus="virtio")

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_add_disk("/etc/shadow"), "/etc/shadow is not a volume of a pool you may use"),
        (_add_disk("/dev/sda"), "/dev/sda is not a volume of a pool you may use"),
        (
            lambda root: etree.SubElement(
                etree.SubElement(root, f"{{{QEMU_NS}}}commandline"), f"{{{QEMU_NS}}}arg", value="-monitor"
            ),
            "QEMU pass-through",
        ),
        (
            lambda root: setattr(
                root.find("devices/emulator")
                if root.find("devices/emulator") is not None
                else etree.SubElement(root.find("devices"), "emulator"),
                "text",
                "/tmp/evil",
            ),
            "The <emulator> cannot be changed",
        ),
        (
            lambda root: etree.SubElement(
                etree.SubElement(root.find("devices"), "filesystem", type="mount"), "source", dir="/root"
            ),
            "<filesystem type='mount'> needs the right to manage host demo",
        ),
        (
            lambda root: etree.SubElement(root.find("os"), "nvram").__setattr__("text", "/etc/passwd"),
            "a VM's UEFI variables are kept in the file named after it, not /etc/passwd",
        ),
    ],
    ids=["host-file", "host-device", "qemu-commandline", "emulator", "filesystem", "nvram"],
)
def test_an_edit_reaching_outside_the_vm_is_refused_before_queueing(demo_host, operator, queue_only, change, reason):
    vm = make_vm(demo_host)
    with pytest.raises(services.XmlInputError, match=reason):
        services.vm_xml_edit(actor=operator, vm=vm, xml=_edit(vm, change))
    assert not Operation.objects.exists()


def test_a_volume_of_a_usable_pool_may_be_added_and_old_paths_stay(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    pool = StoragePool.objects.create(
        host=demo_host, uuid="5ec0e7a5-0000-4000-8000-0000000000bb", name="p", pool_type="dir", state="running"
    )
    StorageVolume.objects.create(pool=pool, name="data.qcow2", key="k", path="/srv/p/data.qcow2", capacity=1)
    # The VM's own disk (not a known volume here) was already there: keeping it is fine.
    op = services.vm_xml_edit(actor=operator, vm=vm, xml=_edit(vm, _add_disk("/srv/p/data.qcow2")))
    assert op.kind == "vm.xml_edit"


def test_whoever_manages_the_host_may_add_host_devices(demo_host, admin, operator):
    root = etree.fromstring("<domain><name>x</name><devices><hostdev mode='subsystem' type='pci'/></devices></domain>")
    assert xmlpolicy.problems(root, user=admin, host=demo_host) == []
    assert xmlpolicy.problems(root, user=operator, host=demo_host) == [
        f"<hostdev type='pci'> needs the right to manage host {demo_host.name}."
    ]


def test_firmware_from_the_host_packages_is_fine_in_a_new_definition(demo_host, operator):
    root = etree.fromstring(
        "<domain><name>x</name><os><type>hvm</type>"
        "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
        "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/x_VARS.fd</nvram>"
        "</os></domain>"
    )
    assert xmlpolicy.problems(root, user=operator, host=demo_host) == []
    root.find("os/nvram").set("template", "/etc/shadow")
    assert xmlpolicy.problems(root, user=operator, host=demo_host) == [
        "<os><nvram template='/etc/shadow'>, a template outside the host's firmware packages, needs the right to "
        f"manage host {demo_host.name}."
    ]
