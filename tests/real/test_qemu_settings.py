"""Settings and XML edits on a tiny real QEMU domain, run by the real worker: vCPU hot-plug and the
balloon now, what QEMU refuses live saved for the next boot (and said so), metadata live, a define
libvirt refuses."""

import subprocess

import pytest
from lxml import etree

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import settings as services
from apps.compute.services import xmledit as xml_services
from apps.compute.virt import domains, xmledit
from apps.hosts.services import host_create
from tests.helpers import QEMU_URI, finished, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vm(stack, qemu_conn, tiny_domain):
    """The tiny domain (shut off) as the monitor's inventory has it."""
    _name, dom_uuid = tiny_domain
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    return wait_for(
        lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid).first(),
        timeout=30,
        message="the monitor to list the domain",
    )


def _run(op, status="succeeded"):
    op = finished(op)
    assert op.status == status, op.error or op.message
    return op


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


def change(actor, vm, **changes):
    values = services.current_values(services.read(vm)) | changes
    return _run(services.vm_settings_change(actor=actor, vm=vm, **values))


def test_vcpus_and_memory_live_where_qemu_allows_else_next_boot(vm, operator, qemu_conn):
    op = change(operator, vm, max_vcpus=2, max_memory_mib=160, autostart=True, boot=["cdrom", "hd"], bootmenu=True)
    assert "from the next boot" in op.message and "autostart on" in op.message
    assert _virsh("dominfo", vm.name).split("Autostart:")[1].split()[0] == "enable"
    domains.power(qemu_conn, str(vm.uuid), "start")

    # This host has few CPUs and a vCPU may not outnumber them: 2 is the most the test can ask.
    op = change(operator, vm, vcpus=2, memory_mib=80)
    # Before: what the running guest has. Without a balloon driver it keeps all it booted with
    # (the maximum, 160), whatever the saved target (96) says.
    assert "vCPUs 1 → 2 now" in op.message and "memory 160 → 80 MiB now" in op.message
    assert _virsh("vcpucount", "--live", "--active", vm.name).strip() == "2"  # hot-plugged
    assert _virsh("vcpucount", "--config", "--active", vm.name).strip() == "2"  # and saved
    assert "80 MiB" in op.message and "balloon" in op.message

    # This guest cannot give a vCPU back (no OS to answer the unplug): QEMU refuses, it is saved.
    op = change(operator, vm, vcpus=1)
    assert "vCPUs 2 → 1 from the next boot (the running VM refused the live change:" in op.message
    assert _virsh("vcpucount", "--live", "--active", vm.name).strip() == "2"
    assert _virsh("vcpucount", "--config", "--active", vm.name).strip() == "1"

    # The maximum memory of a running domain can only change in its definition.
    op = change(operator, vm, max_memory_mib=192)
    assert "maximum memory 160 → 192 MiB from the next boot" in op.message
    saved = etree.fromstring(_virsh("dumpxml", "--inactive", vm.name))
    assert saved.find("memory").text == str(192 * 1024)
    assert [b.get("dev") for b in saved.findall("os/boot")] == ["cdrom", "hd"]
    assert saved.find("os/bootmenu").get("enable") == "yes"


def test_title_live_and_an_xml_edit_libvirt_refuses(vm, operator, qemu_conn):
    domains.power(qemu_conn, str(vm.uuid), "start")
    change(operator, vm, title="Tiny", description="a real one")
    assert etree.fromstring(_virsh("dumpxml", vm.name)).findtext("title") == "Tiny"  # live
    assert etree.fromstring(_virsh("dumpxml", "--inactive", vm.name)).findtext("title") == "Tiny"

    before = xmledit.read(qemu_conn, str(vm.uuid))
    root = etree.fromstring(before)
    root.find("devices/disk/target").set("bus", "warp")
    op = _run(xml_services.vm_xml_edit(actor=operator, vm=vm, xml=etree.tostring(root, encoding="unicode")), "failed")
    assert "validate" in op.error
    assert xmledit.read(qemu_conn, str(vm.uuid)) == before

    root = etree.fromstring(before)
    root.find("description").text = "edited"
    op = _run(xml_services.vm_xml_edit(actor=operator, vm=vm, xml=etree.tostring(root, encoding="unicode")))
    assert op.message.endswith("the running VM uses it from its next start")
    assert etree.fromstring(_virsh("dumpxml", "--inactive", vm.name)).findtext("description") == "edited"
    # The audit has the diff of what changed, never the submitted text.
    outcome = AuditEvent.objects.get(operation_id=op.pk, outcome="succeeded")
    assert "+  <description>edited</description>" in outcome.params["diff"] and "xml" not in outcome.params
