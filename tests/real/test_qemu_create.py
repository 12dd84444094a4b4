"""The create wizard's work on the real libvirtd: a tiny VM with a new 64 MiB qcow2 disk on a dir
pool, network boot, started; and an install from a tree served by a local http.server, whose fake
kernel and initrd are uploaded into volumes through libvirt's stream API (defined only: a fake
kernel cannot boot). The request half runs here, the work in the real worker process."""

import functools
import http.server
import subprocess
import threading
from pathlib import Path

import pytest
from lxml import etree

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services.create import create_plan, vm_create
from apps.compute.virt import domains
from apps.hosts.models import Host
from apps.hosts.services import host_create
from apps.network.models import VirtualNetwork
from apps.storage.models import StoragePool
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import QEMU_URI, finished, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local_host(stack, qemu_conn):
    host = host_create(actor=None, name=unique("local"), uri=QEMU_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", timeout=30, message="the monitor to connect")
    return Host.objects.get(pk=host.pk)


@pytest.fixture
def dir_pool(qemu_conn, local_host):
    name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{name}"
    uuid = pools.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pools.act(qemu_conn, uuid, "build")
    pools.act(qemu_conn, uuid, "start")
    yield wait_for(
        lambda: StoragePool.objects.filter(host=local_host, uuid=uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the pool",
    )
    pools.undefine_quietly(qemu_conn, uuid)
    subprocess.run(["rm", "-rf", path], check=False)


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def isolated_network(qemu_conn, local_host):
    """A transient isolated network (no DHCP, so no dnsmasq needed) for the NIC to sit on, once the
    monitor has it in the inventory (the wizard offers the inventory's networks)."""
    name = unique("kvmweb-net")
    xml = f"<network><name>{name}</name><bridge name='kvbr{name[-6:]}'/></network>"  # test input, not product XML
    subprocess.run(["virsh", "-c", QEMU_URI, "net-create", "/dev/stdin"], input=xml, text=True, check=True,
                   capture_output=True)  # fmt: skip
    wait_for(
        lambda: VirtualNetwork.objects.filter(host=local_host, name=name, present=True).exists(),
        timeout=30,
        message="the monitor to list the network",
    )
    yield name
    subprocess.run(["virsh", "-c", QEMU_URI, "net-destroy", name], check=False, capture_output=True)


@pytest.fixture
def created(qemu_conn):
    uuids = []
    yield uuids
    for uuid in uuids:
        domains.undefine(qemu_conn, uuid)


def _create(admin, host, **kw):
    params = create_plan(actor=admin, host=host, **kw)
    return finished(vm_create(actor=admin, host=host, params=params), timeout=120), params


def test_tiny_vm_with_a_new_qcow2_disk_boots_from_the_network(
    admin, qemu_conn, local_host, dir_pool, isolated_network, created
):
    name = unique("kvmweb-test-new")
    op, params = _create(
        admin, local_host, name=name, memory_mib=64, vcpus=1, source="pxe", network=isolated_network,
        disk_pool=dir_pool, disk_gib=1 / 16, disk_format="qcow2", graphics="vnc", listen="127.0.0.1", start=True,
    )  # fmt: skip
    vm = VirtualMachine.objects.filter(host=local_host, name=name).first()
    if vm is not None:
        created.append(str(vm.uuid))
    assert op.status == "succeeded", op.error
    assert vm.state == "running"
    assert _virsh("domstate", name).strip() == "running"
    disk = f"{dir_pool.target_path}/{name}.qcow2"
    info = subprocess.run(["qemu-img", "info", "-U", disk], capture_output=True, text=True, check=True).stdout
    assert "file format: qcow2" in info and "virtual size: 64 MiB" in info
    assert disk in _virsh("domblklist", name)
    inactive = etree.fromstring(qemu_conn.lookupByName(name).XMLDesc(2))
    assert [b.get("dev") for b in inactive.findall("os/boot")] == ["hd"]  # the next boot is from the disk
    assert inactive.find("devices/interface/source").get("network") == isolated_network
    outcomes = AuditEvent.objects.filter(operation_id=op.pk).values_list("outcome", "actor_name")
    assert sorted(outcomes) == [("requested", admin.username), ("succeeded", admin.username)]


@pytest.fixture
def tree_server(tmp_path):
    """A local install tree in Debian's netboot layout (osinfo's paths for debian11)."""
    base = tmp_path / "installer-amd64" / "current/images/netboot/debian-installer/amd64"
    base.mkdir(parents=True)
    (base / "linux").write_bytes(b"FAKE-KERNEL" * 1000)
    (base / "initrd.gz").write_bytes(b"FAKE-INITRD" * 3000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/installer-amd64/"
    server.shutdown()


def test_install_tree_kernel_and_initrd_go_into_volumes_and_boot_the_installer(
    admin, qemu_conn, local_host, dir_pool, tree_server, created
):
    name = unique("kvmweb-test-tree")
    op, params = _create(
        admin, local_host, name=name, memory_mib=128, vcpus=1, source="tree", os_id="debian11",
        tree_url=tree_server, kernel_args="auto=true url=http://192.0.2.10/preseed.cfg", disk_pool=dir_pool,
        disk_gib=1 / 16, graphics="none", start=False,
    )  # fmt: skip
    vm = VirtualMachine.objects.filter(host=local_host, name=name).first()
    if vm is not None:
        created.append(str(vm.uuid))
    assert op.status == "succeeded", op.error
    root = etree.fromstring(qemu_conn.lookupByName(name).XMLDesc(2))
    kernel, initrd = root.findtext("os/kernel"), root.findtext("os/initrd")
    assert kernel == f"{dir_pool.target_path}/{name}.vmlinuz"
    assert Path(kernel).read_bytes() == b"FAKE-KERNEL" * 1000  # uploaded through the stream API
    assert Path(initrd).read_bytes() == b"FAKE-INITRD" * 3000
    assert root.findtext("os/cmdline") == "auto=true url=http://192.0.2.10/preseed.cfg"
    assert dir_pool.volumes.filter(name=f"{name}.vmlinuz").exists()  # the pool's inventory knows them


def test_an_unreachable_tree_fails_and_removes_the_new_disk(admin, qemu_conn, local_host, dir_pool):
    name = unique("kvmweb-test-tree")
    op, _ = _create(
        admin, local_host, name=name, memory_mib=128, vcpus=1, source="tree", tree_url="http://127.0.0.1:9/none/",
        disk_pool=dir_pool, disk_gib=1 / 16, graphics="none", start=False,
    )  # fmt: skip
    assert op.status == "failed" and "No kernel and initrd found under http://127.0.0.1:9/none/" in op.error
    assert not Path(f"{dir_pool.target_path}/{name}.qcow2").exists()
    assert not VirtualMachine.objects.filter(host=local_host, name=name).exists()
