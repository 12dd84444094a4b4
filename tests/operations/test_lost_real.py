"""A worker killed with SIGKILL mid-operation, on the real libvirtd: the operation does not stay
"running". A worker of its own runs the host's queue here, so the test can kill it:

- the whole worker (its main process and its pool child, as an OOM kill of the machine's worker
  or a host reboot does): nothing is left to say what happened, the message waits in Redis for
  its visibility timeout, and the reaper ends the operation lost once it is past its own time
  limit, with an audit record; that releases what the run held (here: the host's removal, which
  waits for running operations), and a new operation on the same VM runs;
- only the pool child that ran it: the worker's main process requeues the task (acks_late with
  reject_on_worker_lost) and its redelivery ends the operation lost at once, rather than acting
  twice.

The work killed is a clone of a VM with a big sparse disk (libvirt reads every byte of it).
libvirtd goes on with a copy its caller left, so the tests wait for it before cleaning up, as a
person following the message ("check … before trying again") would.
"""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import clone as clone_services
from apps.core.errors import VirtError
from apps.hosts.models import Host
from apps.hosts.services import HostError, host_remove
from apps.operations import runners
from apps.operations.services import GRACE, LOST, operations_reap_stale
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from tests.helpers import QEMU_URI, finished, unique, wait_for
from tests.operations import test_cancel_real as real

# The fixtures and helpers the cancel tests use.
dir_pool, domains_made, seen, sparse_source = real.dir_pool, real.domains_made, real.seen, real.sparse_source

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
GiB = 1 << 30
LOST_WORDS = "The worker running it stopped (killed or crashed) before it ended"


@pytest.fixture
def local(stack, qemu_conn):
    """A host whose queue only this test's workers consume: made without host_create's broadcast
    to every worker, and any consumer an earlier host of the same id left is cancelled."""
    host = Host.objects.create(name=unique("local"), uri=QEMU_URI)
    current_app.control.cancel_consumer(host.queue, reply=True, timeout=5)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", timeout=30, message="the monitor to connect")
    return Host.objects.get(pk=host.pk)


class Worker:
    """`celery worker -Q host.<id> -c 1` in a session of its own, so one killpg reaches its main
    process and its pool child."""

    def __init__(self, stack, queue, name):
        self.log_path = Path(stack.workdir) / f"{name}.log"
        bin_dir = Path(sys.executable).parent
        self.proc = subprocess.Popen(
            [str(bin_dir / "celery"), "-A", "kvmweb", "worker", "-Q", queue, "-c", "1", "-n", f"{name}@%h",
             "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
            cwd=Path(__file__).resolve().parents[2], env=stack.env, stdout=open(self.log_path, "w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: "ready" in self.log_path.read_text(), timeout=30, message=f"worker {name}")

    def pool_child(self):
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(stack, local):
    started = []

    def start():
        worker = Worker(stack, local.queue, unique("lost-test"))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def settled(conn, pool, name):
    """Wait for libvirtd to finish a copy whose caller was killed, then delete it."""

    def deleted():
        try:
            volume_virt.delete(conn, str(pool.uuid), name)
        except VirtError as exc:
            return "no storage vol" in str(exc)  # gone already
        return True

    wait_for(deleted, timeout=120, interval=0.5, message=f"libvirtd to finish the copy {name}")
    pool_virt.act(conn, str(pool.uuid), "refresh")  # the monitor re-reads the pool on its event
    wait_for(lambda: not pool.volumes.filter(name=name).exists(), timeout=30, message="the inventory to drop it")


def copying(op):
    return seen(op, lambda row: row.status == "running" and "copying vda" in row.message, "the copy to start")


def test_a_killed_worker_leaves_its_operation_lost_after_its_limit_and_frees_what_it_held(
    qemu_conn, local, dir_pool, domains_made, workers, operator
):
    source = sparse_source(qemu_conn, local, dir_pool, domains_made, size=4 * GiB)
    name = unique("kvmweb-test")
    worker = workers()
    op = clone_services.vm_clone(actor=operator, vm=source, name=name)
    copying(op)
    with pytest.raises(HostError, match="still queued or running"):
        host_remove(actor=None, host=local, forget_vms=True)

    worker.kill()

    op.refresh_from_db()
    assert op.status == "running"  # nobody is left to say otherwise
    assert operations_reap_stale() == 0  # within its own limit it may still be working
    limit = runners.get("vm.clone").time_limit
    assert operations_reap_stale(now=op.started_at + timedelta(seconds=limit + GRACE + 1)) == 1
    op.refresh_from_db()
    assert op.status == LOST
    assert op.error.startswith(LOST_WORDS) and f"past its time limit ({limit} s)" in op.error
    assert f"check {source.name}'s state" in op.error
    outcome = AuditEvent.objects.filter(operation_id=op.pk).exclude(outcome="requested").get()
    assert (outcome.action, outcome.outcome, outcome.error) == ("vm.clone", "failed", op.error)

    settled(qemu_conn, dir_pool, f"{name}-vda.img")  # what the message asks a person to check
    workers()
    again = finished(clone_services.vm_clone(actor=operator, vm=source, name=name), timeout=120)
    assert again.status == "succeeded", again.error
    domains_made.append(str(VirtualMachine.objects.get(pk=again.params["vm_id"]).uuid))
    host_remove(actor=None, host=local, forget_vms=True)  # nothing running holds the host any more
    assert not Host.objects.filter(pk=local.pk).exists()


def test_a_killed_pool_child_ends_its_operation_lost_at_once(
    qemu_conn, local, dir_pool, domains_made, workers, operator
):
    source = sparse_source(qemu_conn, local, dir_pool, domains_made, size=4 * GiB)
    name = unique("kvmweb-test")
    worker = workers()
    op = clone_services.vm_clone(actor=operator, vm=source, name=name)
    copying(op)

    os.kill(worker.pool_child(), signal.SIGKILL)

    op = finished(op, timeout=60)  # redelivered to the worker's new child, which ends it
    assert op.status == LOST
    assert op.error.startswith(LOST_WORDS) and "time limit" not in op.error
    assert AuditEvent.objects.filter(operation_id=op.pk, action="vm.clone", outcome="failed").exists()
    assert not VirtualMachine.objects.filter(host=local, name=name).exists()
    settled(qemu_conn, dir_pool, f"{name}-vda.img")
