"""The QEMU process and Overview tabs against a tiny real domain (KVM where it works, and TCG)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from apps.compute import handlers
from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, process
from apps.hosts.services import host_create
from tests.conftest import PASSWORD
from tests.helpers import QEMU_URI

pytestmark = [pytest.mark.qemu, pytest.mark.django_db]


@pytest.fixture
def running(qemu_conn, tiny_domain):
    """The tiny domain with two vCPUs, started: (name, uuid, "KVM" or "TCG")."""
    name, dom_uuid = tiny_domain
    root = etree.fromstring(qemu_conn.lookupByUUIDString(dom_uuid).XMLDesc(0))
    root.find("vcpu").text = "2"
    domains.define(qemu_conn, etree.tostring(root, encoding="unicode"))
    domains.power(qemu_conn, dom_uuid, "start")
    yield name, dom_uuid, "KVM" if root.get("type") == "kvm" else "TCG"
    domains.power(qemu_conn, dom_uuid, "destroy")


def test_each_vcpu_maps_to_a_named_host_thread_of_the_pid_in_the_pidfile(qemu_conn, running):
    name, dom_uuid, accel = running
    info = process.process_info(qemu_conn, dom_uuid)
    assert info.available and info.running and info.local
    assert info.pid == int(Path(f"/run/libvirt/qemu/{name}.pid").read_text())
    assert "qemu-system" in info.cmdline[0] and f"guest={name}" in " ".join(info.cmdline)
    tasks = {int(t) for t in os.listdir(f"/proc/{info.pid}/task")}
    assert [v.vcpu for v in info.vcpus] == [0, 1]
    for v in info.vcpus:
        assert v.thread_id in tasks, "QMP's thread id is a thread of the QEMU process"
        assert v.thread_name == f"CPU {v.vcpu}/{accel}"
        assert 0 <= v.physical_cpu < os.cpu_count() and v.affinity
    assert len({v.thread_id for v in info.vcpus}) == 2  # one thread per vCPU
    assert {v.thread_id for v in info.vcpus} <= {t.tid for t in info.threads}
    assert info.threads[0].tid == info.pid  # the main thread first, as pstree shows it
    assert info.emulator_affinity and info.iothreads == []
    assert timezone.now() - info.started_at < timedelta(minutes=2)


def test_the_process_tab_shows_the_thread_map(client, admin, qemu_conn, running):
    name, dom_uuid, accel = running
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(qemu_conn, dom_uuid))
    assert client.login(username=admin.username, password=PASSWORD)
    body = client.get(reverse("compute:vm_process", args=[vm.pk]), HTTP_HX_REQUEST="true").content.decode()
    pid = Path(f"/run/libvirt/qemu/{name}.pid").read_text().strip()
    assert f'id="process-pid">{pid}<' in body
    assert f"CPU 0/{accel}" in body and f"CPU 1/{accel}" in body and body.count('class="vcpu-row"') == 2
    assert f"guest={name}" in body and "pstree -p" in body


def test_a_stopped_vm_has_no_process_to_show(qemu_conn, tiny_domain):
    _name, dom_uuid = tiny_domain
    info = process.process_info(qemu_conn, dom_uuid)
    assert info.available and not info.running and "not running" in info.reason


def test_overview_of_a_real_domain(client, admin, qemu_conn, running):
    name, dom_uuid, _accel = running
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    handlers.first_sync(host, qemu_conn)  # the monitor finds it running
    vm = VirtualMachine.objects.get(host=host, uuid=dom_uuid)
    assert (vm.state, vm.state_reason, vm.vcpus) == ("running", "booted", 2)
    pid = int(Path(f"/run/libvirt/qemu/{name}.pid").read_text())
    assert vm.state_since == process.pid_started(pid)  # found running: since its process started
    assert client.login(username=admin.username, password=PASSWORD)
    body = client.get(reverse("compute:vm_overview", args=[vm.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "(booted)" in body and "Running since" in body and "96 MiB current / 96 MiB max" in body
    # No agent channel in the tiny domain, and no NIC: the page says so rather than showing nothing.
    assert "No answer from a guest agent" in body and "guest agent is not configured" in body
    assert "No DHCP lease yet" in body
