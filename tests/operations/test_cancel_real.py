"""Cancelling running work on the real libvirtd, run by the real worker: a clone mid-copy, a
preallocation mid-way (on a file system without fallocate, where libvirt writes every block), an
install tree's kernel mid-download. Each ends "cancelled" with the request and the outcome in the
audit log, and leaves nothing behind: no volume in libvirt, no file, no domain, no inventory row.

The fixtures here (a host on qemu:///system, dir pools, a source VM with a big sparse disk, the
slow pool, a gated install tree) serve test_lost_real.py and tests/real/test_operation_progress.py
too.
"""

import os
import subprocess
import threading
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import clone as clone_services
from apps.compute.services.create import create_plan, vm_create
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain
from apps.core.errors import VirtError
from apps.hosts.models import Host
from apps.hosts.services import host_create
from apps.operations.models import Operation
from apps.operations.services import CANCELLED_OUTCOME, operation_cancel
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services import volumes as volume_services
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.pool_xml import Pool, Target
from apps.storage.virt.volume_xml import Volume
from tests.helpers import QEMU_URI, finished, unavailable, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
MiB, GiB = 1 << 20, 1 << 30
# A sparse disk whose copy takes seconds: libvirt reads every byte of a raw file, holes too
# (measured here: 20 GiB in 19.8 s), while making it costs nothing.
SPARSE_DISK = 4 * GiB


@pytest.fixture
def local(stack, qemu_conn):
    host = host_create(actor=None, name=unique("local"), uri=QEMU_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", timeout=30, message="the monitor to connect")
    return Host.objects.get(pk=host.pk)


def listed_pool(host, uuid):
    return wait_for(
        lambda: StoragePool.objects.filter(host=host, uuid=uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the pool",
    )


def remove_pool(conn, uuid):
    for info in volume_virt.list_volumes(conn, uuid):
        volume_virt.delete_quietly(conn, uuid, info.name)
    pool_virt.undefine_quietly(conn, uuid)


@pytest.fixture
def dir_pool(qemu_conn, local):
    name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{name}"
    uuid = pool_virt.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pool_virt.act(qemu_conn, uuid, "build")
    pool_virt.act(qemu_conn, uuid, "start")
    yield listed_pool(local, uuid)
    remove_pool(qemu_conn, uuid)
    subprocess.run(["rm", "-rf", path], check=False)


@pytest.fixture
def slow_pool(qemu_conn, local, tmp_path):
    """A dir pool on a loop-mounted ext2 file system, which has no fallocate: libvirt and glibc
    then write a block at a time to preallocate (as on NFSv3), about 2 s per GiB here."""
    name = unique("kvmweb-test-slow")
    image, path = tmp_path / "ext2.img", f"/var/lib/libvirt/{name}"
    subprocess.run(["truncate", "-s", "3G", str(image)], check=True)
    made = subprocess.run(["mkfs.ext2", "-q", "-F", str(image)], capture_output=True, text=True)
    os.makedirs(path)
    mounted = made.returncode == 0 and subprocess.run(["mount", "-o", "loop", str(image), path]).returncode == 0
    if not mounted:
        os.rmdir(path)
        unavailable(f"cannot make or loop-mount an ext2 file system here: {made.stderr.strip()}")
    uuid = pool_virt.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    pool_virt.act(qemu_conn, uuid, "start")
    try:
        yield listed_pool(local, uuid)
    finally:
        remove_pool(qemu_conn, uuid)
        subprocess.run(["umount", path], check=False)
        subprocess.run(["rm", "-rf", path], check=False)


@pytest.fixture
def domains_made(qemu_conn):
    made = []
    yield made
    for uuid in made:
        try:
            domains.undefine(qemu_conn, uuid)
        except VirtError:
            pass


def sparse_source(conn, host, pool, made, *, size=SPARSE_DISK, disks=("vda",)):
    """A shut-off domain whose disks (`disks`, their targets) are big sparse raw volumes of
    `pool`, `<name>-<target>.img`, once the monitor lists them all."""
    name = unique("kvmweb-test")
    paths = []
    for target in disks:
        xml = Volume(name=f"{name}-{target}.img", capacity=size, format="raw").to_xml()
        paths.append(volume_virt.create(conn, str(pool.uuid), xml).path)
    pool_virt.act(conn, str(pool.uuid), "refresh")
    spec = Domain(
        name=name,
        memory_mib=64,
        vcpus=1,
        domain_type=domains.best_virt_type(conn),
        uuid=str(uuidlib.uuid4()),
        disks=[Disk(source=path, target=target, format="raw") for path, target in zip(paths, disks, strict=True)],
    )
    uuid = domains.define(conn, spec.to_xml())
    made.append(uuid)
    wait_for(
        lambda: pool.volumes.filter(name__startswith=f"{name}-").count() == len(disks),
        timeout=30,
        message="the new volumes",
    )
    return wait_for(lambda: VirtualMachine.objects.filter(host=host, uuid=uuid).first(), timeout=30, message="the VM")


def seen(op, predicate, what, timeout=60):
    """Wait until the running operation, re-read, satisfies `predicate`; returns it."""
    return wait_for(
        lambda: (row := Operation.objects.get(pk=op.pk)) and predicate(row) and row, timeout=timeout, message=what
    )


def audit_trail(op):
    return [(e.action, e.outcome, e.actor_name) for e in AuditEvent.objects.filter(operation_id=op.pk).order_by("id")]


def assert_no_volume(conn, pool, name):
    assert volume_virt.volume_info(conn, str(pool.uuid), name) is None, f"{name} is still in libvirt"
    assert not Path(pool.target_path, name).exists(), f"{name} is still on disk"
    assert not StorageVolume.objects.filter(pool=pool, name=name).exists(), f"{name} is still in the inventory"


def test_a_clone_cancelled_mid_copy_leaves_no_volume_and_no_domain(
    qemu_conn, local, dir_pool, domains_made, operator, admin
):
    source = sparse_source(qemu_conn, local, dir_pool, domains_made)
    name = unique("kvmweb-test")
    op = clone_services.vm_clone(actor=operator, vm=source, name=name)
    seen(op, lambda row: row.status == "running" and "copying vda" in row.message, "the copy to start")

    operation_cancel(actor=admin, op=op)

    op = finished(op, timeout=120)
    assert op.status == "cancelled", op.error
    assert op.error.startswith(f"Cancelled by {admin.username}")
    assert_no_volume(qemu_conn, dir_pool, f"{name}-vda.img")
    assert not domains.name_taken(qemu_conn, name)
    assert not VirtualMachine.objects.filter(host=local, name=name).exists()
    assert audit_trail(op) == [
        ("vm.clone", "requested", operator.username),
        ("operation.cancel", "requested", admin.username),
        ("vm.clone", CANCELLED_OUTCOME, operator.username),
    ]
    assert list(op.steps.values_list("text", flat=True))[-1].startswith("Cancelled: Cancelled by")


def test_a_preallocation_cancelled_midway_leaves_no_volume(qemu_conn, slow_pool, operator):
    name = unique("prealloc") + ".img"
    op = volume_services.volume_create(
        actor=operator, pool=slow_pool, name=name, capacity=1, unit="GiB", format="raw", preallocate=True
    )
    running = seen(op, lambda row: row.status == "running" and row.progress >= 2, "the first slice", timeout=60)
    assert "creating" in running.message

    operation_cancel(actor=operator, op=op)

    op = finished(op, timeout=60)
    assert op.status == "cancelled", op.error
    assert f"while {name} was allocated" in op.error  # between two slices, not after the whole GiB
    assert_no_volume(qemu_conn, slow_pool, name)


class GatedTree:
    """An install tree (Debian's netboot layout, osinfo's paths for debian11) whose kernel stops
    after its first 2 MiB until the test opens the gate (or 30 s pass), so a download is caught
    midway; sizes are announced to HEAD, as real mirrors do."""

    KERNEL, INITRD = 8 * MiB, 1 * MiB
    BASE = "/installer-amd64/current/images/netboot/debian-installer/amd64/"

    def __init__(self):
        self.gate = threading.Event()
        tree = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _size(self):
                return {tree.BASE + "linux": tree.KERNEL, tree.BASE + "initrd.gz": tree.INITRD}.get(self.path)

            def do_HEAD(self):
                size = self._size()
                self.send_response(200 if size else 404)
                self.send_header("Content-Length", str(size or 0))
                self.end_headers()

            def do_GET(self):
                size = self._size()
                if not size:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    if self.path.endswith("linux"):
                        self.wfile.write(b"K" * (2 * MiB))
                        self.wfile.flush()
                        tree.gate.wait(30)
                        self.wfile.write(b"K" * (size - 2 * MiB))
                    else:
                        self.wfile.write(b"I" * size)
                except OSError:
                    pass  # the worker went away (cancelled, killed)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/installer-amd64/"

    def close(self):
        self.gate.set()
        self.server.shutdown()


@pytest.fixture
def gated_tree():
    tree = GatedTree()
    yield tree
    tree.close()


def tree_create(actor, host, pool, tree, name):
    params = create_plan(
        actor=actor, host=host, name=name, memory_mib=128, vcpus=1, source="tree", os_id="debian11",
        tree_url=tree.url, disk_pool=pool, disk_gib=1 / 16, graphics="none", start=False,
    )  # fmt: skip
    return vm_create(actor=actor, host=host, params=params)


def test_an_install_fetch_cancelled_midway_leaves_nothing_in_the_pool(
    qemu_conn, local, dir_pool, gated_tree, operator, admin
):
    name = unique("kvmweb-test-tree")
    op = tree_create(admin, local, dir_pool, gated_tree, name)
    seen(op, lambda row: "downloading the kernel" in row.message, "the kernel's download to start")

    operation_cancel(actor=operator, op=op)
    gated_tree.gate.set()  # the next piece arrives, and the cancel is seen between two pieces

    op = finished(op, timeout=60)
    assert op.status == "cancelled", op.error
    assert op.error.startswith(f"Cancelled by {operator.username} while the kernel was downloaded")
    for volume in (f"{name}.qcow2", f"{name}.vmlinuz", f"{name}.initrd"):
        assert_no_volume(qemu_conn, dir_pool, volume)
    assert sorted(os.listdir(dir_pool.target_path)) == []
    assert not domains.name_taken(qemu_conn, name)
    assert not VirtualMachine.objects.filter(host=local, name=name).exists()
