"""One real QEMU domain (KVM where /dev/kvm works, TCG otherwise) through the whole pipeline."""

import shutil
import subprocess
import uuid

import pytest

from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Graphics
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from apps.hosts.virt.errors import VirtError
from apps.operations.models import Operation
from tests.helpers import unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
QEMU_URI = "qemu:///system"
IMAGES = "/var/lib/libvirt/images"


@pytest.fixture
def qemu_conn():
    try:
        return connection.get(QEMU_URI)
    except VirtError as exc:
        pytest.skip(f"libvirtd's QEMU driver does not answer here: {exc}")


@pytest.fixture(params=["kvm", "qemu"], ids=["kvm", "tcg"])
def tiny_domain(request, qemu_conn):
    virt_type = request.param
    if virt_type == "kvm" and domains.best_virt_type(qemu_conn) != "kvm":
        pytest.skip("KVM is not usable on this host; the TCG run covers it")
    name = unique("kvmweb-test")
    image = f"{IMAGES}/{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "64M"], check=True)
    spec = Domain(
        name=name,
        memory_mib=96,
        vcpus=1,
        domain_type=virt_type,
        uuid=str(uuid.uuid4()),
        acpi=True,
        disks=[Disk(source=image)],
        graphics=[Graphics(type="vnc", listen="127.0.0.1")],
    )
    dom_uuid = domains.define(qemu_conn, spec.to_xml())
    yield name, dom_uuid
    domains.undefine(qemu_conn, dom_uuid)
    subprocess.run(["rm", "-f", image], check=False)


def _power(operator, vm, action):
    op = services.vm_power(actor=operator, vm=vm, action=action)
    wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=60, message=f"{action} finished")
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    return op


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is not installed")
def test_start_pause_resume_and_force_off_a_real_domain(stack, operator, tiny_domain):
    name, dom_uuid = tiny_domain
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name).first(), timeout=20, message="inventory")
    assert vm.state == "shutoff" and vm.memory_kib == 96 * 1024

    _power(operator, vm, "start")
    assert _virsh("domstate", name) == "running"
    assert _virsh("domdisplay", name).startswith("vnc://127.0.0.1:")
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "running", message="inventory running")

    _power(operator, vm, "suspend")
    assert _virsh("domstate", name) == "paused"
    _power(operator, vm, "resume")
    assert _virsh("domstate", name) == "running"

    _power(operator, vm, "destroy")
    assert _virsh("domstate", name) == "shut off"
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "shutoff", message="inventory shut off")
