"""`virsh attach-disk … --live --config` and `domblklist` through the dashboard, on a real QEMU domain."""

import os
import subprocess

import pytest

from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.pools import pool_set_iso_library
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import QEMU_URI, finished, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dir_pool(qemu_conn):
    """A dir pool with two 32 MiB raw images, on the real libvirtd."""
    name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{name}"
    uuid = pools.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pools.act(qemu_conn, uuid, "build")
    pools.act(qemu_conn, uuid, "start")
    for image in ("extra.img", "other.img"):
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", f"{path}/{image}", "32M"], check=True)
    pools.act(qemu_conn, uuid, "refresh")
    yield name, path
    pools.undefine_quietly(qemu_conn, uuid)
    subprocess.run(["rm", "-rf", path], check=False)


def _run(op):
    op = finished(op)
    assert op.status == "succeeded", op.error
    return op


def _inactive_xml(name):
    return subprocess.run(
        ["virsh", "-c", QEMU_URI, "dumpxml", "--inactive", name], capture_output=True, text=True, check=True
    ).stdout


def _domblklist(name):
    out = subprocess.run(["virsh", "-c", QEMU_URI, "domblklist", name], capture_output=True, text=True, check=True)
    return {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()[2:] if line.strip()}


def test_attach_live_and_config_then_detach_a_virtio_and_a_scsi_disk(stack, operator, tiny_domain, dir_pool, qemu_conn):
    name, _ = tiny_domain
    pool_name, pool_path = dir_pool
    vm, pool = _running_vm(qemu_conn, tiny_domain, pool_name)
    extra = pool.volumes.get(name="extra.img")
    other = wait_for(lambda: pool.volumes.filter(name="other.img").first(), timeout=30, message="other.img")

    op = _run(services.vm_disk_attach(actor=operator, vm=vm, volume=extra, live=True, config=True))
    assert "as vdb" in op.message
    assert _domblklist(name)["vdb"] == f"{pool_path}/extra.img"  # live
    assert f"{pool_path}/extra.img" in _inactive_xml(name)  # and saved for the next start

    op = _run(services.vm_disk_detach(actor=operator, vm=vm, target="vdb", live=True, config=True))
    assert f"{pool_path}/extra.img" not in _inactive_xml(name)
    # A virtio disk is a PCI device: QEMU removes it only when the guest answers the ACPI eject
    # request, and this guest has no OS to answer. It stays live, and the operation says so.
    assert _domblklist(name)["vdb"] == f"{pool_path}/extra.img"
    assert (
        op.message
        == f"vdb detached from {vm.name}; the running guest has not released it yet, it goes when the guest does"
    )

    # A SCSI disk is unplugged by QEMU itself, without the guest: gone live and from the definition.
    op = _run(services.vm_disk_attach(actor=operator, vm=vm, volume=other, bus="scsi", live=True, config=True))
    assert "as sda" in op.message
    assert _domblklist(name)["sda"] == f"{pool_path}/other.img"
    op = _run(services.vm_disk_detach(actor=operator, vm=vm, target="sda", live=True, config=True))
    assert op.message == f"sda detached from {vm.name}"
    assert "sda" not in _domblklist(name)
    assert f"{pool_path}/other.img" not in _inactive_xml(name)


def _running_vm(qemu_conn, tiny_domain, pool_name):
    name, dom_uuid = tiny_domain
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name, state="running").first(), timeout=20)
    pool = wait_for(lambda: StoragePool.objects.filter(host=host, name=pool_name).first(), timeout=20, message="pool")
    wait_for(lambda: pool.volumes.filter(name="extra.img").exists(), timeout=30, message="the pool's volumes")
    return vm, pool


def _blockinfo(name, target):
    out = subprocess.run(
        ["virsh", "-c", QEMU_URI, "domblkinfo", name, target], capture_output=True, text=True, check=True
    ).stdout
    return {k.strip(): int(v) for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def test_a_new_volume_is_created_attached_live_and_grown_live(stack, operator, tiny_domain, dir_pool, qemu_conn):
    from apps.compute.services.disks import DiskError, vm_disk_new, vm_disk_resize

    name, _ = tiny_domain
    pool_name, pool_path = dir_pool
    vm, pool = _running_vm(qemu_conn, tiny_domain, pool_name)

    op = _run(
        vm_disk_new(
            actor=operator, vm=vm, pool=pool, name="new.qcow2", capacity="16", unit="MiB", live=True, config=True
        )
    )
    assert "sparse qcow2 volume" in op.message and "as vdb" in op.message
    assert _domblklist(name)["vdb"] == f"{pool_path}/new.qcow2"
    assert pool.volumes.get(name="new.qcow2").capacity == 16 << 20  # the pool's inventory was refreshed
    vm.refresh_from_db()
    assert vm.disk_bytes == 16 << 20  # counted for the team's disk quota

    op = _run(vm_disk_resize(actor=operator, vm=vm, target="vdb", capacity="32", unit="MiB"))
    assert "grew from 16 MiB to 32 MiB" in op.message
    assert _blockinfo(name, "vdb")["Capacity"] == 32 << 20
    assert pool.volumes.get(name="new.qcow2").capacity == 32 << 20
    with pytest.raises(DiskError, match="can only grow"):
        vm_disk_resize(actor=operator, vm=vm, target="vdb", capacity="24", unit="MiB")

    # Preallocated raw, saved configuration only: all of it reserved on disk now, not in the guest yet.
    op = _run(
        vm_disk_new(
            actor=operator,
            vm=vm,
            pool=pool,
            name="full.img",
            capacity="8",
            unit="MiB",
            format="raw",
            preallocate=True,
            bus="sata",
            live=False,
            config=True,
        )
    )
    assert "preallocated raw volume" in op.message and "as sda" in op.message
    assert "sda" not in _domblklist(name)
    assert f"{pool_path}/full.img" in _inactive_xml(name)
    assert os.stat(f"{pool_path}/full.img").st_blocks * 512 >= 8 << 20


def test_cdrom_drive_added_then_an_iso_inserted_and_ejected_live(stack, operator, tiny_domain, dir_pool, qemu_conn):
    from apps.compute.services import disks as disk_services

    name, dom_uuid = tiny_domain
    pool_name, pool_path = dir_pool
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", f"{pool_path}/boot.iso", "1M"], check=True)
    subprocess.run(["virsh", "-c", QEMU_URI, "pool-refresh", pool_name], check=True, capture_output=True)
    vm, pool = _running_vm(qemu_conn, tiny_domain, pool_name)
    op = _run(pool_set_iso_library(actor=operator, pool=pool, on=True))  # the host's ISO library now
    assert op.message == f"{pool_name} is now the ISO library of {vm.host.name}"
    assert StoragePool.objects.get(pk=pool.pk).is_iso_library
    isos = StorageVolume.objects.select_related("pool").filter(pool=pool, name="boot.iso")
    iso = wait_for(isos.first, timeout=30, message="the ISO")

    op = _run(disk_services.vm_cdrom_add(actor=operator, vm=vm, bus="sata"))
    assert "next start" in op.message
    domains.power(qemu_conn, dom_uuid, "destroy")  # QEMU cannot hot-plug a CD-ROM: restart to get it
    domains.power(qemu_conn, dom_uuid, "start")
    wait_for(lambda: "sda" in _domblklist(name), timeout=20, message="the CD-ROM drive")
    assert _domblklist(name)["sda"] == "-"  # an empty drive

    op = _run(disk_services.vm_cdrom_insert(actor=operator, vm=vm, target="sda", volume=iso, live=True, config=True))
    assert _domblklist(name)["sda"] == f"{pool_path}/boot.iso"
    op = _run(disk_services.vm_cdrom_eject(actor=operator, vm=vm, target="sda", live=True, config=True))
    assert _domblklist(name)["sda"] == "-"
    assert "boot.iso" not in _inactive_xml(name)
