"""The monitor's tick keeps each running VM's and each host's series: against the test driver
through the real tick handler, and with counters of known values across minute and quarter-hour
boundaries (the downsampled records keep the average, minimum and maximum of the raw samples)."""

import itertools
import math
from types import SimpleNamespace

import pytest

from apps.compute import handlers
from apps.compute.models import VirtualMachine
from apps.compute.stats import metrics, reads, recorder
from apps.compute.virt.domains import DomainInfo
from apps.compute.virt.stats import DomainCounters
from apps.core.series import graph, store
from apps.hosts import stats as host_stats
from apps.hosts.virt import connection
from apps.hosts.virt.stats import HostCounters
from tests.compute.graphs.graphdata import in_units
from tests.helpers import TEST_URI, define_test_domain

_ids = itertools.count(900_000)
QUARTER = 1_800_000_000 // 900 * 900  # a quarter hour's start, far from the clock: nothing else writes there


@pytest.fixture
def fresh_recorder():
    yield
    recorder._hosts.clear()


def test_each_tick_adds_a_point_to_a_running_vm_and_its_host(demo_host, fresh_recorder):
    running = define_test_domain(start=True, vcpus=2)
    stopped = define_test_domain()
    conn = connection.get(TEST_URI)
    handlers.sync_all(demo_host, conn)  # the first tick has nothing to take a difference from
    vm = VirtualMachine.objects.get(host=demo_host, uuid=running)
    off = VirtualMachine.objects.get(host=demo_host, uuid=stopped)
    for expected in (1, 2, 3):
        handlers.sync_all(demo_host, conn)
        data = in_units(reads.vm_graph(vm, "15m"))
        assert len(data["t"]) == expected
    assert data["t"] == sorted(data["t"]) and not data["downsampled"]
    # The test driver counts wall time as CPU time: the domain uses one CPU, half of its two vCPUs.
    # The share of the host (the test driver has 16 CPUs) is the same time over the host's CPUs.
    for cpu, cpu_host in zip(data["values"]["cpu"], data["values"]["cpu_host"], strict=True):
        assert 0 < cpu <= 100
        assert math.isclose(cpu_host, cpu * 2 / 16, rel_tol=0.01)
    assert math.isclose(data["values"]["memory"][-1], 256 * 2**20, rel_tol=1e-3)  # given: no balloon stats
    assert data["values"]["disk_read"] == [None] * 3  # the test driver has no block statistics
    assert in_units(reads.vm_graph(off, "15m"))["t"] == []
    host = in_units(graph.data(host_stats.LAYOUT, host_stats.KIND, demo_host.pk, "1h"))
    assert len(host["t"]) == 3


def _info(uuid, cpu_ns, *, vcpus=2, disk=0, net=0):
    counters = DomainCounters(
        vcpus, cpu_ns, 1 << 20, disk, disk, disk // 4096, disk // 4096, net, net, net // 1500, net // 1500
    )
    return DomainInfo(uuid, "vm", "running", vcpus, 1 << 20, 1 << 20, counters=counters)


def _host_counters(t):
    return HostCounters(
        cpus=4, memory_kib=8 << 20, busy_ns=int(t * 1e9), total_ns=int(t * 4e9), memory_used_kib=1 << 20
    )


def _run(host, uuid, shares, start, step=2.0):
    """Ticks every `step` seconds from `start`; between tick i and i+1 the VM uses shares[i] of
    one CPU. Returns the time after the last tick."""
    cpu_ns, t = 0, start
    recorder._record(host, _host_counters(t), [_info(uuid, cpu_ns)], t)
    for share in shares:
        t += step
        cpu_ns += int(share * step * 1e9)
        recorder._record(host, _host_counters(t), [_info(uuid, cpu_ns)], t)
    return t


def test_minute_and_quarter_records_keep_the_average_and_the_extremes(fresh_recorder):
    host = SimpleNamespace(pk=next(_ids), name="synthetic")
    uuid = "00000000-0000-4000-8000-000000000001"
    ident = metrics.ident(host.pk, uuid)
    start = QUARTER + recorder.offset(host.pk)  # the host's quarter hour begins a little past the clock's
    # The first minute: 30 ticks at 2 s, the VM busy on one vCPU of two in every third interval.
    shares = [(1.0 if i % 3 == 0 else 0.2) for i in range(30)]
    t = _run(host, uuid, shares + [0.6] * 420, start)  # then on through the quarter hour and past it
    day = in_units(graph.data(metrics.LAYOUT, metrics.KIND, ident, "24h", now=t + 60))
    assert day["downsampled"] and day["step"] == 60
    first = day["t"].index(start)
    # The minute's 29 points (the tick at its start has no predecessor) are 50 % and 10 % of two vCPUs.
    samples = [100 * s / 2 for s in shares[:29]]
    assert math.isclose(day["values"]["cpu"][first], sum(samples) / len(samples), rel_tol=2e-3)
    assert (day["min"]["cpu"][first], day["max"]["cpu"][first]) == (10, 50)
    assert day["values"]["cpu"][first + 2] == 30  # later minutes: 0.6 of a CPU, steady
    week = in_units(graph.data(metrics.LAYOUT, metrics.KIND, ident, "7d", now=t + 60))
    at = week["t"].index(start)
    assert (week["min"]["cpu"][at], week["max"]["cpu"][at]) == (10, 50)  # the raw extremes, not the minutes'
    raw = [100 * s / 2 for s in (shares + [0.6] * 420)[: 15 * 30 - 1]]  # the quarter's samples
    assert math.isclose(week["values"]["cpu"][at], sum(raw) / len(raw), rel_tol=2e-3)
    hour = in_units(graph.data(metrics.LAYOUT, metrics.KIND, ident, "1h", now=t))
    assert len(hour["t"]) == 450 and "min" not in hour


def test_a_vm_that_stops_leaves_a_gap_in_its_graph(fresh_recorder):
    host = SimpleNamespace(pk=next(_ids), name="synthetic")
    uuid = "00000000-0000-4000-8000-000000000002"
    t = _run(host, uuid, [0.5] * 5, QUARTER)
    recorder._record(host, _host_counters(t + 2), [], t + 2)  # stopped: no counters
    t = _run(host, uuid, [0.5] * 5, t + 60)
    data = in_units(graph.data(metrics.LAYOUT, metrics.KIND, metrics.ident(host.pk, uuid), "15m", now=t))
    assert data["values"]["cpu"].count(None) == 1  # one empty row breaks the line
    assert len(data["t"]) == 5 + 1 + 5
    newer = in_units(graph.data(metrics.LAYOUT, metrics.KIND, metrics.ident(host.pk, uuid), "15m", since=t - 5, now=t))
    assert newer["t"] == [t - 4, t - 2, t]  # what a live graph appends


def test_a_ring_has_a_fixed_size_whatever_the_number_of_ticks(fresh_recorder):
    host = SimpleNamespace(pk=next(_ids), name="synthetic")
    uuid = "00000000-0000-4000-8000-000000000003"
    _run(host, uuid, [0.1] * 5, QUARTER)
    ring = store.key(metrics.KIND, metrics.ident(host.pk, uuid), store.tick_resolution())
    size = store.client().strlen(ring)
    assert size == store.tick_resolution().slots * metrics.LAYOUT.point.size
    _run(host, uuid, [0.1] * 50, QUARTER + 100)
    assert store.client().strlen(ring) == size
