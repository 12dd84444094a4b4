"""Pool types a single machine can give without outside servers, on the real libvirtd: a fs pool on a
loop-mounted image file, a logical pool on a loop device (when LVM tools are here), and netfs pools:
over a GlusterFS volume this machine serves (mounted through FUSE), and against a local NFS export
when the kernel has an NFS client and server. What cannot run says why."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.hosts.services import host_create
from apps.operations.services import operation_run
from apps.storage.models import StoragePool
from apps.storage.services import pools as services
from apps.storage.services import volumes as volume_services
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Source, SourceDevice, SourceHost, Target
from tests.helpers import QEMU_URI, unavailable, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def loop_device(tmp_path):
    if shutil.which("losetup") is None or not Path("/dev/loop-control").exists():
        unavailable("no loop devices here (losetup or /dev/loop-control missing)")
    image = tmp_path / "disk.img"
    sh("truncate", "-s", "64M", str(image))
    try:
        device = sh("losetup", "-f", "--show", str(image))
    except subprocess.CalledProcessError as exc:
        unavailable(f"cannot attach a loop device here: {exc.stderr.strip()}")
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
    admin, local_host, loop_device, qemu_conn, django_capture_on_commit_callbacks
):
    sh("mkfs.ext4", "-q", loop_device)
    name = unique("kvmweb-test-fs")
    target = f"/var/lib/libvirt/{name}"
    spec = Pool(
        type="fs", name=name, source=Source(devices=[SourceDevice(loop_device)], format="ext4"), target=Target(target)
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(admin, local_host, spec, build=True)
        assert op.status == "succeeded", op.error
        assert sh("findmnt", "-n", "-o", "SOURCE", target) == loop_device  # libvirt mounted it
        row = StoragePool.objects.get(host=local_host, name=name)
        assert row.state == "running" and row.pool_type == "fs"
        assert 40 * 2**20 < row.capacity <= 64 * 2**20  # the filesystem's size, as df shows it
        with django_capture_on_commit_callbacks(execute=False):
            _act(admin, row, "stop")
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
    admin, local_host, loop_device, qemu_conn, django_capture_on_commit_callbacks
):
    if shutil.which("vgcreate") is None:
        unavailable("LVM tools (vgcreate) are not installed here")
    vg = unique("kvmwebtestvg").replace("-", "")
    spec = Pool(
        type="logical",
        name=vg,
        source=Source(devices=[SourceDevice(loop_device)], name=vg),
        target=Target(f"/dev/{vg}"),
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(admin, local_host, spec, build=True)
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


def _no_nfs_here():
    """Why this machine cannot mount NFS, or "" when it can. libvirt's netfs pool mounts with the
    kernel's NFS client; a kernel without one fails `mount -t nfs` with "No such device", whatever
    server answers (a userspace server such as nfs-ganesha serves, but nothing here can mount it)."""
    filesystems = {line.split()[-1] for line in Path("/proc/filesystems").read_text().splitlines() if line.strip()}
    release = os.uname().release
    module = any(Path("/lib/modules", release, "kernel/fs/nfs").glob("nfs.ko*"))
    if not {"nfs", "nfs4"} & filesystems and not module:
        return (
            f"this kernel ({release}) has no NFS client (no nfs or nfs4 in /proc/filesystems, no nfs module "
            f"under /lib/modules/{release}), so mount.nfs fails with 'No such device' whatever server answers; "
            "the netfs pool is tested over GlusterFS (FUSE) instead"
        )
    if "nfsd" not in filesystems or shutil.which("exportfs") is None:
        return "this kernel has no NFS server (no nfsd in /proc/filesystems, or no exportfs)"
    return ""


def test_netfs_pool_against_a_local_nfs_export(
    operator, local_host, qemu_conn, tmp_path, django_capture_on_commit_callbacks
):
    # A property of the kernel, not a missing install: a skip with the reason, under CI as well.
    if reason := _no_nfs_here():
        pytest.skip(reason)
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


def _gluster(*args):
    return subprocess.run(["gluster", "--mode=script", *args], capture_output=True, text=True)


def _global_address():
    """This machine's first non-loopback IPv4 address: gluster refuses a brick on loopback."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    words = out.stdout.split()
    return words[words.index("inet") + 1].split("/")[0] if "inet" in words else ""


@pytest.fixture
def gluster_volume(tmp_path):
    """A one-brick GlusterFS volume served from this machine: its name. glusterd is started for
    the test when it is not running already, and stopped after."""
    missing = [tool for tool in ("glusterd", "gluster", "mount.glusterfs") if shutil.which(tool) is None]
    if missing:
        unavailable(f"GlusterFS is not installed ({', '.join(missing)} missing; scripts/setup --test installs it)")
    if not Path("/dev/fuse").exists():
        unavailable("no /dev/fuse: the GlusterFS client mounts through FUSE")
    address = _global_address()
    if not address:
        unavailable("no non-loopback IPv4 address, and GlusterFS refuses a brick on loopback")
    glusterd = None
    if _gluster("volume", "list").returncode != 0:
        glusterd = subprocess.Popen(["glusterd", "-N"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _gluster("volume", "list").returncode == 0, timeout=30, message="glusterd to answer")
    name = unique("kvmwebtest")
    brick = tmp_path / "brick"
    try:
        made = _gluster("volume", "create", name, f"{address}:{brick}", "force")
        assert made.returncode == 0, made.stderr or made.stdout
        started = _gluster("volume", "start", name)
        assert started.returncode == 0, started.stderr or started.stdout
        yield name, brick
    finally:
        _gluster("volume", "stop", name, "force")
        _gluster("volume", "delete", name)
        if glusterd is not None:
            glusterd.terminate()
            glusterd.wait(timeout=30)


def test_netfs_pool_mounts_a_glusterfs_volume(
    operator, local_host, qemu_conn, gluster_volume, django_capture_on_commit_callbacks
):
    """A netfs pool of format glusterfs: libvirt mounts the volume through the FUSE client, which
    this kernel has (it has no NFS client: see _no_nfs_here)."""
    volume, brick = gluster_volume
    name = unique("kvmweb-test-gluster")
    target = f"/var/lib/libvirt/{name}"
    spec = Pool(
        type="netfs",
        name=name,
        target=Target(target),
        source=Source(hosts=[SourceHost("127.0.0.1")], dir=f"/{volume}", format="glusterfs"),
    )
    try:
        with django_capture_on_commit_callbacks(execute=False):
            op = _create(operator, local_host, spec, build=True)
        assert op.status == "succeeded", op.error
        assert sh("findmnt", "-n", "-o", "SOURCE,FSTYPE", target).split() == [f"127.0.0.1:/{volume}", "fuse.glusterfs"]
        row = StoragePool.objects.get(host=local_host, name=name)
        assert (row.state, row.pool_type) == ("running", "netfs") and row.capacity > 0
        # A volume made in the pool is a file on the server's brick: the mount is the real thing.
        with django_capture_on_commit_callbacks(execute=False):
            made = volume_services.volume_create(
                actor=operator, pool=row, name="disk.qcow2", capacity=16, unit="MiB", format="qcow2"
            )
        assert operation_run(made.pk).status == "succeeded"
        assert (brick / "disk.qcow2").is_file()
        assert row.volumes.get(name="disk.qcow2").capacity == 16 * 2**20
        with django_capture_on_commit_callbacks(execute=False):
            _act(operator, row, "stop")
        assert subprocess.run(["findmnt", target], capture_output=True).returncode != 0  # unmounted
    finally:
        pool = StoragePool.objects.filter(host=local_host, name=name).first()
        if pool is not None:
            pools.undefine_quietly(qemu_conn, str(pool.uuid))
        subprocess.run(["umount", target], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", target], check=False)
