"""Pool types a single machine can give without outside servers, on the real libvirtd: a fs pool on a
loop-mounted image file, a logical pool on a loop device (when LVM tools are here), and a netfs pool
against a local NFS export (when the kernel has an NFS server). What cannot run says why."""

import shutil
import subprocess
from pathlib import Path

import pytest

from apps.hosts.services import host_create
from apps.operations.services import operation_run
from apps.storage.models import StoragePool
from apps.storage.services import pools as services
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Source, SourceDevice, SourceHost, Target
from tests.helpers import QEMU_URI, unique

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def loop_device(tmp_path):
    if shutil.which("losetup") is None or not Path("/dev/loop-control").exists():
        pytest.skip("no loop devices here (losetup or /dev/loop-control missing)")
    image = tmp_path / "disk.img"
    sh("truncate", "-s", "64M", str(image))
    try:
        device = sh("losetup", "-f", "--show", str(image))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot attach a loop device here: {exc.stderr.strip()}")
    yield device
    subprocess.run(["losetup", "-d", device], check=False)


@pytest.fixture
def local_host(qemu_conn):
    return host_create(actor=None, name="local", uri=QEMU_URI)


def _create(operator, host, pool, build):
    op = services.pool_create(
        actor=operator, host=host, name=pool.name, xml=pool.to_xml(), build=build, autostart=False
    )
    return operation_run(op.pk)


def _act(operator, pool_row, action):
    op = services.pool_action(actor=operator, pool=pool_row, action=action)
    op = operation_run(op.pk)
    assert op.status == "succeeded", op.error
    return op


def test_fs_pool_on_a_loop_mounted_image(
    operator, local_host, loop_device, qemu_conn, django_capture_on_commit_callbacks
):
    sh("mkfs.ext4", "-q", loop_device)
    name = unique("kvmweb-test-fs")
    target = f"/var/lib/libvirt/{name}"
    spec = Pool(
        type="fs", name=name, source=Source(devices=[SourceDevice(loop_device)], format="ext4"), target=Target(target)
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(operator, local_host, spec, build=True)
        assert op.status == "succeeded", op.error
        assert sh("findmnt", "-n", "-o", "SOURCE", target) == loop_device  # libvirt mounted it
        row = StoragePool.objects.get(host=local_host, name=name)
        assert row.state == "running" and row.pool_type == "fs"
        assert 40 * 2**20 < row.capacity <= 64 * 2**20  # the filesystem's size, as df shows it
        with django_capture_on_commit_callbacks(execute=False):
            _act(operator, row, "stop")
        assert subprocess.run(["findmnt", target], capture_output=True).returncode != 0  # unmounted
        row.refresh_from_db()
        assert row.state == "inactive"
    finally:
        pool = StoragePool.objects.filter(host=local_host, name=name).first()
        if pool is not None:
            pools.undefine_quietly(qemu_conn, str(pool.uuid))
        subprocess.run(["umount", target], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", target], check=False)


def test_logical_pool_on_a_loop_device(
    operator, local_host, loop_device, qemu_conn, django_capture_on_commit_callbacks
):
    if shutil.which("vgcreate") is None:
        pytest.skip("LVM tools (vgcreate) are not installed here")
    vg = unique("kvmwebtestvg").replace("-", "")
    spec = Pool(
        type="logical",
        name=vg,
        source=Source(devices=[SourceDevice(loop_device)], name=vg),
        target=Target(f"/dev/{vg}"),
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(operator, local_host, spec, build=True)
        assert op.status == "succeeded", op.error
        assert vg in sh("vgs", "--noheadings", "-o", "vg_name")  # libvirt built the volume group
        row = StoragePool.objects.get(host=local_host, name=vg)
        assert row.state == "running" and 40 * 2**20 < row.capacity <= 64 * 2**20
    finally:
        pool = StoragePool.objects.filter(host=local_host, name=vg).first()
        if pool is not None:
            pools.undefine_quietly(qemu_conn, str(pool.uuid))
        subprocess.run(["vgremove", "-f", vg], capture_output=True, check=False)
        subprocess.run(["pvremove", "-f", loop_device], capture_output=True, check=False)


def test_netfs_pool_against_a_local_nfs_export(
    operator, local_host, qemu_conn, tmp_path, django_capture_on_commit_callbacks
):
    if "nfsd" not in Path("/proc/filesystems").read_text() or shutil.which("exportfs") is None:
        pytest.skip(
            "this kernel offers no NFS server (no nfsd in /proc/filesystems, or no exportfs): "
            "netfs is covered by its golden XML and the test driver only"
        )
    export = tmp_path / "export"
    export.mkdir()
    try:
        sh("exportfs", "-o", "rw,no_root_squash,insecure", f"127.0.0.1:{export}")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"the NFS server does not export here: {exc.stderr.strip()}")
    name = unique("kvmweb-test-nfs")
    target = f"/var/lib/libvirt/{name}"
    spec = Pool(
        type="netfs",
        name=name,
        target=Target(target),
        source=Source(hosts=[SourceHost("127.0.0.1")], dir=str(export), format="nfs"),
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(operator, local_host, spec, build=True)
        assert op.status == "succeeded", op.error
        assert sh("findmnt", "-n", "-o", "SOURCE", target) == f"127.0.0.1:{export}"
    finally:
        pool = StoragePool.objects.filter(host=local_host, name=name).first()
        if pool is not None:
            pools.undefine_quietly(qemu_conn, str(pool.uuid))
        subprocess.run(["exportfs", "-u", f"127.0.0.1:{export}"], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", target], check=False)
