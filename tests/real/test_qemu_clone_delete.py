"""Clone and delete on a real libvirtd with QEMU, run by the real worker: a tiny domain (96 MiB, a
64 MiB qcow2 in a dir pool of its own, one NIC, VNC on 127.0.0.1), cloned, both booted, then
deleted with and without their storage.
"""

import os
import subprocess
import uuid as uuidlib

import pytest
from lxml import etree

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import clone as clone_services
from apps.compute.services import delete as delete_services
from apps.compute.virt import domains
from apps.core.errors import VirtError
from apps.hosts.services import host_create
from apps.storage.models import StoragePool
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.pool_xml import Pool, Target
from apps.storage.virt.volume_xml import Volume
from tests.helpers import QEMU_URI, finished, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
MiB = 1 << 20
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"


@pytest.fixture
def local(stack, qemu_conn):
    return host_create(actor=None, name="local", uri=QEMU_URI)


def _dir_pool(conn):
    name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{name}"
    uuid = pool_virt.define(conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pool_virt.act(conn, uuid, "build")
    pool_virt.act(conn, uuid, "start")
    return uuid, path


@pytest.fixture
def real_pools(qemu_conn, local):
    """Two dir pools on the real libvirtd, as the monitor lists them; removed with everything in
    them afterwards."""
    made = [_dir_pool(qemu_conn) for _ in range(2)]

    def listed(uuid):
        return wait_for(
            lambda: StoragePool.objects.filter(host=local, uuid=uuid, state="running").first(),
            timeout=30,
            message="the monitor to list the pool",
        )

    yield [(listed(uuid), path) for uuid, path in made]
    for uuid, path in made:
        for info in volume_virt.list_volumes(qemu_conn, uuid):
            volume_virt.delete_quietly(qemu_conn, uuid, info.name)
        pool_virt.undefine_quietly(qemu_conn, uuid)
        subprocess.run(["rm", "-rf", path], check=False)


@pytest.fixture
def domains_made(qemu_conn):
    """UUIDs of domains a test defined (sources and clones), removed afterwards."""
    made = []
    yield made
    for uuid in made:
        try:
            domains.undefine(qemu_conn, uuid)
        except VirtError:
            pass


def tiny_source(conn, host, pool, made, *, uefi=False):
    """A tiny domain whose disk is a new volume of `pool`, once the monitor lists both."""
    name = unique("kvmweb-test")
    vol = volume_virt.create(
        conn, str(pool.uuid), Volume(name=f"{name}.qcow2", capacity=64 * MiB, format="qcow2").to_xml()
    )
    pool_virt.act(conn, str(pool.uuid), "refresh")  # the monitor re-reads the pool on its event
    root = etree.Element("domain", type=domains.best_virt_type(conn))
    etree.SubElement(root, "name").text = name
    etree.SubElement(root, "uuid").text = str(uuidlib.uuid4())
    etree.SubElement(root, "memory", unit="MiB").text = "96"
    etree.SubElement(root, "vcpu").text = "1"
    os_el = etree.SubElement(root, "os")
    etree.SubElement(os_el, "type", arch="x86_64", machine="q35").text = "hvm"
    if uefi:
        etree.SubElement(os_el, "loader", readonly="yes", type="pflash").text = "/usr/share/OVMF/OVMF_CODE_4M.fd"
        etree.SubElement(os_el, "nvram", template="/usr/share/OVMF/OVMF_VARS_4M.fd")
    features = etree.SubElement(root, "features")
    etree.SubElement(features, "acpi")  # UEFI needs it
    devices = etree.SubElement(root, "devices")
    disk = etree.SubElement(devices, "disk", type="file", device="disk")
    etree.SubElement(disk, "driver", name="qemu", type="qcow2")
    etree.SubElement(disk, "source", file=vol.path)
    etree.SubElement(disk, "target", dev="vda", bus="virtio")
    nic = etree.SubElement(devices, "interface", type="user")
    etree.SubElement(nic, "model", type="virtio")
    etree.SubElement(devices, "graphics", type="vnc", listen="127.0.0.1", autoport="yes")
    uuid = domains.define(conn, etree.tostring(root, encoding="unicode"))
    made.append(uuid)
    wait_for(lambda: pool.volumes.filter(name=f"{name}.qcow2").exists(), timeout=30, message="the new volume")
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, uuid=uuid).first(), timeout=30, message="the VM")
    return vm, vol.path


def clone(operator, vm, name, made, **kwargs):
    op = finished(clone_services.vm_clone(actor=operator, vm=vm, name=name, **kwargs), timeout=120)
    assert op.status == "succeeded", op.error
    new = VirtualMachine.objects.get(pk=op.params["vm_id"])
    made.append(str(new.uuid))
    return op, new


def delete(operator, vm, **options):
    op = finished(delete_services.vm_delete(actor=operator, vm=vm, confirm=vm.name, **options))
    assert op.status == "succeeded", op.error
    return op


def dumpxml(name):
    out = subprocess.run(["virsh", "-c", QEMU_URI, "dumpxml", name], capture_output=True, text=True, check=True)
    return etree.fromstring(out.stdout.encode())


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "-U", path], capture_output=True, text=True, check=True)
    return out.stdout


def test_a_clone_boots_beside_its_source_with_its_own_disk_and_mac(
    qemu_conn, local, real_pools, domains_made, operator
):
    (pool, path), _ = real_pools
    source, source_disk = tiny_source(qemu_conn, local, pool, domains_made)
    name = unique("kvmweb-test")

    op, new = clone(operator, source, name, domains_made)

    clone_disk = f"{path}/{name}-vda.qcow2"
    assert os.path.exists(clone_disk) and os.path.exists(source_disk)
    assert "file format: qcow2" in qemu_img_info(clone_disk) and "backing file" not in qemu_img_info(clone_disk)
    domains.power(qemu_conn, str(source.uuid), "start")
    domains.power(qemu_conn, str(new.uuid), "start")
    assert domains.domain_info(qemu_conn, str(source.uuid)).state == "running"
    assert domains.domain_info(qemu_conn, str(new.uuid)).state == "running"
    a, b = dumpxml(source.name), dumpxml(name)
    assert a.findtext("uuid") != b.findtext("uuid")
    assert a.find("devices/interface/mac").get("address") != b.find("devices/interface/mac").get("address")
    assert a.find("devices/disk/source").get("file") == source_disk
    assert b.find("devices/disk/source").get("file") == clone_disk

    # Delete the running clone with its storage: forced off, undefined, its file gone.
    op = delete(operator, new, volumes=True)
    assert "forced off" in op.message
    assert not os.path.exists(clone_disk)
    assert domains.domain_info(qemu_conn, str(new.uuid)) is None
    # Delete the source keeping its storage: the file stays.
    delete(operator, source, volumes=False)
    assert os.path.exists(source_disk)
    outcomes = AuditEvent.objects.filter(action__in=["vm.clone", "vm.delete"]).values_list("action", "outcome")
    assert sorted(outcomes) == sorted(
        [("vm.clone", "requested"), ("vm.clone", "succeeded")]
        + [("vm.delete", "requested"), ("vm.delete", "succeeded")] * 2
    )


def test_a_clone_copies_into_another_pool(qemu_conn, local, real_pools, domains_made, operator):
    (pool, _path), (other, other_path) = real_pools
    source, _disk = tiny_source(qemu_conn, local, pool, domains_made)
    name = unique("kvmweb-test")
    op, new = clone(operator, source, name, domains_made, pools={"vda": other})
    assert os.path.exists(f"{other_path}/{name}-vda.qcow2")
    assert other.volumes.filter(name=f"{name}-vda.qcow2").exists()
    domains.power(qemu_conn, str(new.uuid), "start")
    assert domains.domain_info(qemu_conn, str(new.uuid)).state == "running"


def test_uefi_clone_gets_its_own_nvram_and_delete_removes_it_when_asked(
    qemu_conn, local, real_pools, domains_made, operator
):
    (pool, _path), _ = real_pools
    source, _disk = tiny_source(qemu_conn, local, pool, domains_made, uefi=True)
    domains.power(qemu_conn, str(source.uuid), "start")  # libvirt makes the source's store at first start
    domains.power(qemu_conn, str(source.uuid), "destroy")
    source_nvram = dumpxml(source.name).findtext("os/nvram")
    assert source_nvram and os.path.exists(source_nvram)
    name = unique("kvmweb-test")

    op, new = clone(operator, source, name, domains_made)

    assert "NVRAM: a fresh one" in op.message  # the nvram directory is no pool kvmweb manages
    domains.power(qemu_conn, str(new.uuid), "start")
    clone_nvram = dumpxml(name).findtext("os/nvram")
    assert clone_nvram and clone_nvram != source_nvram and os.path.exists(clone_nvram)
    delete(operator, new, volumes=True, nvram=True)
    assert not os.path.exists(clone_nvram)
    delete(operator, source, volumes=True, nvram=False)
    assert os.path.exists(source_nvram)  # kept, as asked (--keep-nvram)
    os.remove(source_nvram)
