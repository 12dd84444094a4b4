"""One real QEMU domain (KVM where /dev/kvm works, TCG otherwise) through the whole pipeline."""

import subprocess

import pytest

from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.hosts.services import host_create
from tests.helpers import QEMU_URI, finished, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def _power(operator, vm, action):
    op = finished(services.vm_power(actor=operator, vm=vm, action=action))
    assert op.status == "succeeded", op.error
    return op


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout.strip()


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
