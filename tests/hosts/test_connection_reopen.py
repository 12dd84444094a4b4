"""A dead cached libvirt connection is reopened before use, never handed to an operation.

After libvirtd restarts, a process without libvirt's event loop (the web server, the workers)
still holds a connection that `isAlive()` calls alive; its first call used to fail with "Cannot
write data: Broken pipe". Two ways to see it fixed: a cut between a process and libvirtd (a
proxy socket whose connections all close, as a restart closes them, harming nobody), and a real
restart of the shared libvirtd under a real Celery worker.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.storage.services.pools import pool_action, pool_refresh_inventory
from apps.storage.virt import pools as pool_virt
from apps.storage.virt.pool_xml import Pool, Target
from tests.conftest import Stack
from tests.helpers import QEMU_URI, TEST_URI, unique, wait_for
from tests.hosts.test_monitor import SocketProxy

ROOT = Path(__file__).resolve().parents[2]

# A process like the web server's or a worker's: it reads through the connection cache and runs
# no libvirt event loop (the test process may run one, for its monitor tests, which would notice
# the cut by itself and prove nothing).
READER = """
import sys
from apps.hosts.virt import connection

uri = sys.argv[1]
first = connection.get(uri)
print("open", first.getHostname(), flush=True)
sys.stdin.readline()  # meanwhile every connection through the proxy is cut
with connection.connected(uri) as conn:
    print("fresh" if conn is not first else "same", conn.getHostname(), flush=True)
"""


def test_a_cached_connection_the_daemon_dropped_is_reopened_before_use(tmp_path):
    proxy = SocketProxy(str(tmp_path / "libvirt-sock"))
    proxy.start()
    uri = f"test+unix:///default?socket={proxy.path}"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, uri],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().startswith("open ")
        proxy.stop()
        proxy.start()
        out, err = reader.communicate("go\n", timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
        proxy.stop()
    assert reader.returncode == 0, err
    assert out.startswith("fresh ")


# -- a real restart of the shared libvirtd ------------------------------------------------------

LIBVIRTD_PID = Path("/run/libvirtd.pid")


def _answers(uri):
    return subprocess.run(["virsh", "-c", uri, "version"], capture_output=True, timeout=20).returncode == 0


def _running(pid):
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def _libvirtd_up():
    return LIBVIRTD_PID.exists() and _running(int(LIBVIRTD_PID.read_text() or 0))


def _start_libvirtd():
    subprocess.run(["libvirtd", "-d"], check=True, timeout=30)
    wait_for(lambda: _answers(QEMU_URI) and _answers(TEST_URI), timeout=30, message="libvirtd answering again")


@pytest.fixture
def libvirtd_restart():
    """Kill the shared libvirtd (-9, as a crash would) and start it again (`libvirtd -d`), then wait
    until both drivers answer. What libvirtd holds only in memory goes with it — the test
    driver's domains on test+unix:///default — so the tests using this fixture run after all
    others (tests/conftest.py, pytest_collection_modifyitems). libvirtd is started again even if
    the test fails half-way."""

    def restart():
        pid = int(LIBVIRTD_PID.read_text())
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _running(pid), timeout=10, message="libvirtd gone")
        _start_libvirtd()

    yield restart
    if not _libvirtd_up():
        _start_libvirtd()


def _finished(op):
    return wait_for(
        lambda: Operation.objects.filter(pk=op.pk, status__in=["succeeded", "failed", "cancelled"]).first(),
        timeout=60,
        message=f"operation {op.kind} to finish",
    )


@pytest.mark.qemu
@pytest.mark.django_db(transaction=True)
def test_the_worker_reopens_its_connection_after_libvirtd_restarts(admin, qemu_conn, tmp_path, libvirtd_restart):
    name = unique("kvmweb-test-reopen")
    target = tmp_path / "pool"
    target.mkdir()
    uuid = pool_virt.define(qemu_conn, Pool(type="dir", name=name, target=Target(str(target))).to_xml())
    # Not host_create: its broadcast would have any other worker of this session consume the
    # host's queue too; this test needs its operations in the one worker process it watches.
    host = Host.objects.create(name="local", uri=QEMU_URI)
    worker = Stack(tmp_path)
    try:
        pool_virt.act(qemu_conn, uuid, "start")
        pool = pool_refresh_inventory(qemu_conn, host, uuid)
        # One process (solo pool) on this host's queue only: the operation after the restart runs
        # where the one before it left its cached connection.
        worker.start(
            "worker",
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "kvmweb",
            "worker",
            "-Q",
            host.queue,
            "-P",
            "solo",
            "-n",
            f"reopen-{host.pk}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        )
        wait_for(lambda: "ready" in worker.log("worker"), timeout=30, message="the worker")
        before = _finished(pool_action(actor=admin, pool=pool, action="refresh"))
        assert (before.status, before.error) == ("succeeded", "")

        libvirtd_restart()

        after = _finished(pool_action(actor=admin, pool=pool, action="refresh"))
        assert (after.status, after.error) == ("succeeded", "")
    finally:
        worker.stop()
        pool_virt.undefine_quietly(connection.get(QEMU_URI), uuid)
