"""Volumes on a real libvirtd: a dir pool of its own on qemu:///system, checked with `qemu-img info`.

The seed's example is 10 G virtual with 10 M on disk (sparse) against 10 G on disk (preallocated);
here it is scaled down to 64 MiB. The worker side runs in this process (operation_run), so these
tests need libvirtd but no Celery; test_volumes_transfer.py runs the real worker.
"""

import json
import subprocess
import uuid as uuidlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from apps.core.errors import VirtError
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.services import volumes as services
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import unavailable

pytestmark = pytest.mark.django_db
MiB = 1 << 20
REAL_URI = "qemu:///system"


def real_connection():
    try:
        conn = connection.open_connection(REAL_URI)
        conn.getVersion()
    except (VirtError, Exception) as exc:  # noqa: BLE001 — any failure means "no real libvirtd here"
        unavailable(f"{REAL_URI} does not answer ({exc}); the real-libvirtd volume tests are skipped")
    return conn


@contextmanager
def real_dir_pool(conn):
    """A dir pool of our own under /var/lib/libvirt, removed with everything in it afterwards."""
    name = f"kvmweb-test-{uuidlib.uuid4().hex[:8]}"
    path = f"/var/lib/libvirt/{name}"
    uuid = pool_virt.define(conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    try:
        pool_virt.act(conn, uuid, "build")
        pool_virt.act(conn, uuid, "start")
        yield uuid, path
    finally:
        for info in volume_virt.list_volumes(conn, uuid):
            volume_virt.delete_quietly(conn, uuid, info.name)
        for action in ("stop", "delete"):
            try:
                pool_virt.act(conn, uuid, action)
            except VirtError:
                pass
        pool_virt.undefine_quietly(conn, uuid)


def settle(pool):
    """With the stack running, wait until the monitor has seen the test pool go, so its writes do
    not collide with the database flush that ends a transactional test."""
    from apps.storage.models import StoragePool
    from tests.helpers import wait_for

    try:
        wait_for(lambda: not StoragePool.objects.filter(pk=pool.pk, present=True).exists(), timeout=10)
    except AssertionError:
        pass  # the monitor never connected to the host: nothing of it to wait for


@pytest.fixture(scope="module")
def real():
    conn = real_connection()
    with real_dir_pool(conn) as (uuid, path):
        yield conn, uuid, path
    conn.close()


@pytest.fixture
def pool(real, db):
    conn, uuid, _path = real
    host = host_create(actor=None, name=f"local-{uuid[:8]}", uri=REAL_URI)
    pool = pool_refresh_inventory(conn, host, uuid)
    yield pool
    for info in volume_virt.list_volumes(conn, uuid):
        volume_virt.delete_quietly(conn, uuid, info.name)


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-U", path], capture_output=True, check=True)
    return json.loads(out.stdout)


def create(operator, pool, name, **kwargs):
    op = operation_run(
        services.volume_create(actor=operator, pool=pool, name=name, **kwargs).pk)
    assert op.status == "succeeded", op.error
    return StorageVolume.objects.get(pool=pool, name=name)


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_sparse_takes_almost_nothing_and_preallocated_takes_it_all(pool, operator, fmt):
    sparse = create(operator, pool, f"sparse.{fmt}", capacity="64", unit="MiB", format=fmt)
    full = create(operator, pool, f"full.{fmt}", capacity="64", unit="MiB", format=fmt, preallocate=True)
    s, f = qemu_img_info(sparse.path), qemu_img_info(full.path)
    print(f"\n{fmt}: sparse disk size {s['actual-size']} B, preallocated disk size {f['actual-size']} B")
    assert s["format"] == f["format"] == fmt
    assert s["virtual-size"] == f["virtual-size"] == 64 * MiB
    assert s["actual-size"] < MiB  # a qcow2 header, or nothing at all for raw
    assert f["actual-size"] >= 64 * MiB
    # the inventory shows the same as qemu-img: capacity = virtual size, allocation = disk size
    assert sparse.capacity == full.capacity == 64 * MiB
    assert sparse.allocation < MiB and full.allocation >= 64 * MiB


def test_an_overlay_shows_its_backing_file(pool, operator, client):
    base = create(operator, pool, "base.qcow2", capacity="64", unit="MiB", format="qcow2")
    overlay = create(operator, pool, "overlay.qcow2", backing=base, format="qcow2")
    info = qemu_img_info(overlay.path)
    assert info["backing-filename"] == base.path and info["virtual-size"] == 64 * MiB
    assert overlay.backing_path == base.path
    client.force_login(operator)
    page = client.get(f"/storage/{pool.pk}/").content.decode()
    assert f"<code>{base.path}</code>" in page


def test_resize_grows_and_shrinks_only_when_asked(pool, operator):
    vol = create(operator, pool, "grow.qcow2", capacity="64", unit="MiB", format="qcow2")
    op = operation_run(
        services.volume_resize(actor=operator, volume=vol, capacity="128", unit="MiB").pk)
    assert op.status == "succeeded", op.error
    assert qemu_img_info(vol.path)["virtual-size"] == 128 * MiB
    vol.refresh_from_db()
    assert vol.capacity == 128 * MiB
    with pytest.raises(services.VolumeError, match="allow shrinking"):
        services.volume_resize(actor=operator, volume=vol, capacity="32", unit="MiB")
    op = services.volume_resize(actor=operator, volume=vol, capacity="32", unit="MiB", shrink=True)
    assert operation_run(op.pk).status == "succeeded"
    assert qemu_img_info(vol.path)["virtual-size"] == 32 * MiB


def test_clone_is_an_independent_copy(pool, operator):
    vol = create(operator, pool, "source.raw", capacity="8", unit="MiB", format="raw")
    Path(vol.path).write_bytes(b"kvmweb" * 1000)
    op = operation_run(
        services.volume_clone(actor=operator, volume=vol, new_name="copy.raw").pk)
    assert op.status == "succeeded", op.error
    copy = StorageVolume.objects.get(pool=pool, name="copy.raw")
    assert copy.path != vol.path and Path(copy.path).read_bytes()[:6000] == b"kvmweb" * 1000


def test_wipe_zeroes_and_delete_removes(pool, operator):
    vol = create(operator, pool, "secret.raw", capacity="4", unit="MiB", format="raw", preallocate=True)
    with open(vol.path, "r+b") as f:
        f.write(b"\xff" * 4096)
    op = operation_run(services.volume_wipe(actor=operator, volume=vol).pk)
    assert op.status == "succeeded", op.error
    assert Path(vol.path).read_bytes()[:4096] == b"\0" * 4096
    op = operation_run(services.volume_delete(actor=operator, volume=vol).pk)
    assert op.status == "succeeded", op.error
    assert not Path(vol.path).exists() and not StorageVolume.objects.filter(pk=vol.pk).exists()


def test_the_real_pool_refuses_what_does_not_fit(pool, operator, real):
    conn, uuid, _path = real
    before = {v.name for v in volume_virt.list_volumes(conn, uuid)}
    with pytest.raises(services.VolumeError, match="needs that much free space"):
        services.volume_create(
            actor=operator, pool=pool, name="huge.raw", capacity=pool.available + MiB, preallocate=True
        )
    with pytest.raises(services.VolumeError, match="more than the whole pool"):
        services.volume_create(actor=operator, pool=pool, name="huge.raw", capacity=pool.capacity + MiB)
    assert {v.name for v in volume_virt.list_volumes(conn, uuid)} == before
