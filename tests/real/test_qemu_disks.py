"""`virsh attach-disk … --live --config` and `domblklist` through the dashboard, on a real QEMU domain."""

import subprocess

import pytest

from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.operations.models import Operation
from apps.storage.models import StoragePool
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dir_pool(qemu_conn):
    """A dir pool with one 32 MiB raw image, on the real libvirtd."""
    name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{name}"
    uuid = pools.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pools.act(qemu_conn, uuid, "build")
    pools.act(qemu_conn, uuid, "start")
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", f"{path}/extra.img", "32M"], check=True)
    pools.act(qemu_conn, uuid, "refresh")
    yield name, path
    pools.undefine_quietly(qemu_conn, uuid)
    subprocess.run(["rm", "-rf", path], check=False)


def _run(op):
    wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=60, message=f"{op.kind} finished")
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    return op


def _domblklist(name):
    out = subprocess.run(["virsh", "-c", QEMU_URI, "domblklist", name], capture_output=True, text=True, check=True)
    return {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()[2:] if line.strip()}


def test_attach_a_pool_volume_live_and_config_then_detach(stack, operator, tiny_domain, dir_pool, qemu_conn):
    name, dom_uuid = tiny_domain
    pool_name, pool_path = dir_pool
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name, state="running").first(), timeout=20)
    pool = wait_for(lambda: StoragePool.objects.filter(host=host, name=pool_name).first(), timeout=20, message="pool")
    volume = wait_for(lambda: pool.volumes.filter(name="extra.img").first(), timeout=30, message="volume")

    op = _run(services.vm_disk_attach(actor=operator, vm=vm, volume=volume, live=True, config=True))
    assert "as vdb" in op.message
    assert _domblklist(name)["vdb"] == f"{pool_path}/extra.img"  # live
    inactive = subprocess.run(
        ["virsh", "-c", QEMU_URI, "dumpxml", "--inactive", name], capture_output=True, text=True, check=True
    ).stdout
    assert f"{pool_path}/extra.img" in inactive  # and saved for the next start

    op = _run(services.vm_disk_detach(actor=operator, vm=vm, target="vdb", live=True, config=True))
    inactive = subprocess.run(
        ["virsh", "-c", QEMU_URI, "dumpxml", "--inactive", name], capture_output=True, text=True, check=True
    ).stdout
    assert f"{pool_path}/extra.img" not in inactive
    # This guest has no OS to answer the hot-unplug request, so the live disk stays, and says so.
    assert "vdb" not in _domblklist(name) or "has not released it yet" in op.message
