"""Progress that means something, on the real libvirtd and the real worker: what a person watching
the operation's bar sees (its row, read as the task center reads it) moves with the bytes of the
work and never backwards, and ends at 100 when the work succeeds.

- a clone: the bytes the copy has written (its allocation against the source's), disk by disk
  (a preallocated copy is allocated whole before its first byte, so it has no figure within);
- a preallocation on a file system without fallocate: the bytes allocated, slice by slice;
- an install tree's kernel and initrd: the bytes downloaded of both together, as announced.
"""

import threading

import pytest

from apps.compute.models import VirtualMachine
from apps.compute.services import clone as clone_services
from apps.core.units import human_bytes
from apps.operations.models import Operation
from apps.storage.services import volumes as volume_services
from apps.storage.virt import pools as pool_virt
from tests.helpers import finished, unique, wait_for
from tests.operations import test_cancel_real as real

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
MiB, GiB = 1 << 20, 1 << 30

# The fixtures the cancel tests use.
local, dir_pool, slow_pool, domains_made, gated_tree = (
    real.local,
    real.dir_pool,
    real.slow_pool,
    real.domains_made,
    real.gated_tree,
)


class Bar:
    """Reads the operation's row every 50 ms, as a page showing it would, until it ends."""

    def __init__(self, op):
        self.op, self.seen, self.done = op, [], threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        from django.db import connection

        try:
            while not self.done.is_set():
                row = Operation.objects.values("status", "progress", "message").get(pk=self.op.pk)
                if row["status"] == "running":
                    self.seen.append((row["progress"], row["message"]))
                elif row["status"] not in ("queued",):
                    return
                self.done.wait(0.05)
        finally:
            connection.close()

    def stop(self):
        self.done.set()
        self.thread.join(timeout=5)
        return [p for p, _m in self.seen]


def assert_moves_forward(figures, low, high, at_least):
    """Never backwards, and at least `at_least` figures strictly between low and high."""
    assert figures == sorted(figures), f"the bar went backwards: {figures}"
    between = {p for p in figures if low < p < high}
    assert len(between) >= at_least, f"too few figures between {low} and {high}: {sorted(set(figures))}"


def fill(path, size):
    """Write `size` bytes of data at the start of a volume: the rest stays a hole."""
    block = bytes(range(256)) * (4 * MiB // 256)
    with open(path, "r+b") as disk:
        for _ in range(size // len(block)):
            disk.write(block)


def test_a_clone_reports_the_bytes_it_has_copied_disk_by_disk(qemu_conn, local, dir_pool, domains_made, operator):
    source = real.sparse_source(qemu_conn, local, dir_pool, domains_made, size=2 * GiB, disks=("vda", "vdb"))
    data = {"vda": 1 * GiB, "vdb": GiB // 2}  # each disk's share of the bar is its data
    for target, size in data.items():
        fill(dir_pool.volumes.get(name=f"{source.name}-{target}.img").path, size)
    pool_virt.act(qemu_conn, str(dir_pool.uuid), "refresh")
    wait_for(
        lambda: all(dir_pool.volumes.get(name=f"{source.name}-{t}.img").allocation >= size for t, size in data.items()),
        timeout=30,
        message="the inventory to see the data",
    )
    op = clone_services.vm_clone(actor=operator, vm=source, name=unique("kvmweb-test"))
    bar = Bar(op)

    op = finished(op, timeout=180)
    figures = bar.stop()

    assert op.status == "succeeded", op.error
    domains_made.append(str(VirtualMachine.objects.get(pk=op.params["vm_id"]).uuid))
    assert op.progress == 100
    assert figures == sorted(figures), f"the bar went backwards: {figures}"
    # The copies have 5 to 90 of the bar: vda two thirds of it, vdb the rest.
    vdb_starts = int(5 + 85 * 2 / 3)
    vda = [p for p, message in bar.seen if "copying vda" in message]
    vdb = [p for p, message in bar.seen if "copying vdb" in message]
    assert vda and vdb and max(vda) <= vdb_starts <= min(vdb)
    steps = [(f"{step.at:%H:%M:%S.%f}", step.text) for step in op.steps.all()]
    assert any(5 < p < vdb_starts for p in vda), f"no figure while vda was copied: {sorted(set(vda))}, {steps}"


def test_a_preallocation_reports_the_bytes_allocated(qemu_conn, slow_pool, operator):
    name = unique("prealloc") + ".img"
    op = volume_services.volume_create(
        actor=operator, pool=slow_pool, name=name, capacity=1, unit="GiB", format="raw", preallocate=True
    )
    bar = Bar(op)

    op = finished(op, timeout=120)
    figures = bar.stop()

    assert op.status == "succeeded", op.error
    assert op.progress == 100
    assert_moves_forward(figures, 1, 99, at_least=5)  # one figure per slice
    volume = wait_for(lambda: slow_pool.volumes.filter(name=name).first(), timeout=30, message="the volume")
    assert volume.allocation >= GiB  # preallocated indeed, as one createXML would have


def test_an_install_fetch_reports_the_bytes_of_kernel_and_initrd_together(
    qemu_conn, local, dir_pool, gated_tree, domains_made, admin
):
    name = unique("kvmweb-test-tree")
    op = real.tree_create(admin, local, dir_pool, gated_tree, name)
    total = gated_tree.KERNEL + gated_tree.INITRD
    # The kernel's first 2 MiB came, the rest waits behind the gate: the bar says so exactly.
    held = real.seen(op, lambda row: "downloading the kernel" in row.message, "the kernel's download to start")
    held = real.seen(op, lambda row: row.message.startswith("downloading the kernel (2"), "2 MiB of the kernel")
    assert held.message == f"downloading the kernel ({human_bytes(2 * MiB)} of {human_bytes(total)})"
    assert held.progress == int(20 + 68 * (2 * MiB) / total)
    bar = Bar(op)

    gated_tree.gate.set()

    op = finished(op, timeout=60)
    figures = bar.stop()
    assert op.status == "succeeded", op.error
    domains_made.append(str(VirtualMachine.objects.get(host=local, name=name).uuid))
    assert figures == sorted(figures) and min(figures) >= held.progress
    assert op.progress == 100
