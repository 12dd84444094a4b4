"""The monitor's half of the graphs: each tick, the usage of a host and its VMs into Redis.

Called by compute's tick handler with the listing it already has (the counters came with the bulk
call), plus the host's counters (three cheap calls). Per host and tick: one pipeline — a point per
running VM and the host, and at each minute (and quarter hour) their averages with min and max —
and one live event, on which open graphs fetch what is new. Never a query per VM to PostgreSQL.

What is kept between ticks lives here, in the monitor's memory: the last counters (rates are
deltas), the buckets in progress, and the last quarter hour of minute buckets, which rank the
busiest VMs. A monitor that restarts starts the rates over and loses the minute in progress.
"""

import asyncio
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from channels.layers import get_channel_layer

from apps.core import realtime
from apps.core.series import store
from apps.core.series.buckets import Bucket
from apps.hosts import monitor
from apps.hosts import stats as host_stats
from apps.hosts.virt import stats as host_virt

from . import busiest, metrics

log = logging.getLogger(__name__)

WIDTH = len(metrics.LAYOUT.fields)
RECENT = 15  # minute buckets behind the busiest VMs ranking


@dataclass
class _Host:
    """What one host's recorder remembers from tick to tick."""

    at: float = 0.0  # the last tick's time
    counters: object = None  # the host's HostCounters then
    vms: dict = field(default_factory=dict)  # uuid -> DomainCounters then
    seq: int = 0  # the full-resolution ring's slot counter
    minute: int = 0
    quarter: int = 0
    minutes: dict = field(default_factory=dict)  # (kind, ident) -> the minute's packed points so far
    quarters: dict = field(default_factory=dict)  # (kind, ident) -> Bucket of the quarter in progress
    recent: dict = field(default_factory=dict)  # VM ident -> _Recent
    names: dict = field(default_factory=dict)  # VM uuid -> ((kind, ident), its full-resolution ring's key)


class _Recent:
    """A VM's last quarter hour of minute buckets, with their running sums (busiest.py ranks by
    their averages every minute: two additions per field, not fifteen)."""

    __slots__ = ("buckets", "sums", "counts")

    def __init__(self):
        self.buckets = deque()
        self.sums = [0.0] * WIDTH
        self.counts = [0] * WIDTH

    def add(self, bucket):
        self.buckets.append(bucket)
        for i in range(WIDTH):
            self.sums[i] += bucket.sums[i]
            self.counts[i] += bucket.counts[i]

    def drop_before(self, start):
        while self.buckets and self.buckets[0].start < start:
            old = self.buckets.popleft()
            for i in range(WIDTH):
                self.sums[i] -= old.sums[i]
                self.counts[i] -= old.counts[i]

    def averages(self):
        return [s / c if c else math.nan for s, c in zip(self.sums, self.counts, strict=True)]


_hosts: dict[int, _Host] = {}


def forget(host_id):
    _hosts.pop(host_id, None)


def _layout(kind):
    return metrics.LAYOUT if kind == metrics.KIND else host_stats.LAYOUT


def _point(state, batch, kind, ident, ts, values, tick, slot, renew):
    record = _layout(kind).pack_point(ts, values)
    batch.put(store.key(kind, ident, tick), tick, slot, record, renew=renew)
    points = state.minutes.get((kind, ident))
    if points is None:
        state.minutes[(kind, ident)] = [record]
    else:
        points.append(record)


def _write_bucket(batch, kind, ident, resolution, bucket):
    record = _layout(kind).pack_summary(bucket)
    batch.put(
        store.key(kind, ident, resolution), resolution, store.slot_of(resolution, bucket.start), record, renew=True
    )


def _close_minute(state, batch, host_id):
    """The minute is over: its points become 1-minute records (average, min, max) and feed the
    quarter's buckets and the busiest ranking."""
    for (kind, ident), points in state.minutes.items():
        layout = _layout(kind)
        bucket = Bucket.of(state.minute, len(layout.fields), layout.point_columns(b"".join(points)))
        if bucket.empty:
            continue
        _write_bucket(batch, kind, ident, store.MINUTES, bucket)
        quarter = state.quarters.get((kind, ident))
        if quarter is None:
            quarter = state.quarters[(kind, ident)] = Bucket(state.quarter, len(bucket.sums))
        quarter.merge(bucket)
        if kind == metrics.KIND:
            recent = state.recent.get(ident)
            if recent is None:
                recent = state.recent[ident] = _Recent()
            recent.add(bucket)
    state.minutes = {}
    oldest = state.minute - (RECENT - 1) * store.MINUTE
    for ident in list(state.recent):
        recent = state.recent[ident]
        recent.drop_before(oldest)
        if not recent.buckets:
            del state.recent[ident]
    busiest.write(batch, host_id, {ident: recent.averages() for ident, recent in state.recent.items()})


def _close_quarter(state, batch):
    for (kind, ident), bucket in state.quarters.items():
        if not bucket.empty:
            _write_bucket(batch, kind, ident, store.QUARTERS, bucket)
    state.quarters = {}


def record(host, conn, infos, *, now=None):
    """One tick of a host: `infos` is the listing of this tick (domains.list_domains). A failure
    is the monitor's to log (once); a connection that died propagates, as for the inventory."""
    now = now or time.time()  # as near the listing as can be: the rates are over wall time
    with monitor.isolated(host, conn, "graphs"):
        _record(host, host_virt.host_counters(conn), infos, now)


def offset(host_id):
    """Seconds past the wall clock's minute (and quarter hour) at which this host's periods
    begin: hosts close their minutes at different ticks, so a fleet's minute records do not all
    fall on one tick of the monitor."""
    return host_id * 2 % store.MINUTE


def _record(host, counters, infos, now, r=None):
    state = _hosts.setdefault(host.pk, _Host())
    tick = store.tick_resolution()
    batch = store.Batch(r)
    shift = offset(host.pk)
    minute = int((now - shift) // store.MINUTE * store.MINUTE + shift)
    renew = minute != state.minute  # the full-resolution rings' expiry is renewed once a minute
    if renew:
        if state.minute:
            _close_minute(state, batch, host.pk)
        state.minute = minute
    quarter = int((now - shift) // store.QUARTER * store.QUARTER + shift)
    if quarter != state.quarter:
        if state.quarter:
            _close_quarter(state, batch)
        state.quarter = quarter
    state.seq = max(state.seq + 1, int(now // tick.step))
    slot = state.seq % tick.slots
    seconds = now - state.at if state.at else 0.0
    if seconds > 0:
        values = host_stats.values(state.counters, counters)
        _point(state, batch, host_stats.KIND, host.pk, now, values, tick, slot, renew)
    state.vms = _vm_points(state, batch, host.pk, infos, now, seconds, counters.cpus, tick, slot, renew)
    state.at, state.counters = now, counters
    batch.send()
    _signals.send(realtime.host_group(host.pk), {"type": "live.event", "kind": "stats", "id": host.pk})


def _vm_points(state, batch, host_id, infos, now, seconds, host_cpus, tick, slot, renew):
    """Each running VM's point of this tick, into the batch and the minute in progress; returns
    their counters, which the next tick's differences start from. The one loop per VM and tick:
    kept to a handful of operations each (bench/stats.py)."""
    before, after = state.vms, {}
    names, minutes = state.names, state.minutes
    rings, records = [], []
    pack, values = metrics.LAYOUT.pack_point, metrics.values
    for info in infos:
        counters = info.counters
        if counters is None:
            continue
        uuid = info.uuid
        after[uuid] = counters
        previous = before.get(uuid)
        if previous is None or seconds <= 0:
            continue
        record = pack(now, values(previous, counters, seconds, host_cpus))
        name = names.get(uuid)
        if name is None:
            ident = metrics.ident(host_id, uuid)
            name = names[uuid] = ((metrics.KIND, ident), store.key(metrics.KIND, ident, tick))
        rings.append(name[1])
        records.append(record)
        points = minutes.get(name[0])
        if points is None:
            minutes[name[0]] = [record]
        else:
            points.append(record)
    batch.put_many(rings, tick, slot, records, renew=renew)
    for uuid in before.keys() - after.keys():
        names.pop(uuid, None)  # stopped or gone: its name is made again if it comes back
    return after


class _Signals:
    """Sends the ticks' live events one after the other from an event loop of its own, without
    the monitor waiting for them.

    realtime.publish runs each send in a new event loop (async_to_sync), and so on a new Redis
    connection of the channel layer: about 4 ms of CPU each, 80 ms a tick at 20 hosts. Here the
    loop, and with it the layer's connection, lasts; a send costs the monitor a hand-over. Signals
    that pile up (the layer is down) are dropped: the next tick's make good for them.
    """

    BACKLOG = 1000

    def __init__(self):
        self._loop = None
        self._queue = None
        self._lock = threading.Lock()

    def _start(self):
        loop = asyncio.new_event_loop()
        self._queue = asyncio.Queue(self.BACKLOG)
        threading.Thread(target=loop.run_forever, name="graphs-signals", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._drain(), loop)
        return loop

    async def _drain(self):
        layer, failing = get_channel_layer(), False
        while True:
            group, message = await self._queue.get()
            try:
                await layer.group_send(group, message)
            except Exception as exc:  # noqa: BLE001 — a lost signal is made good by the next tick's
                if not failing:  # once, not every tick of every host while the layer is down
                    log.warning("graphs: tick signals are not being sent: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("graphs: tick signals are sent again")
                failing = False

    def _put(self, item):
        if not self._queue.full():
            self._queue.put_nowait(item)

    def send(self, group, message):
        with self._lock:
            if self._loop is None:
                self._loop = self._start()
        self._loop.call_soon_threadsafe(self._put, (group, message))


_signals = _Signals()


@realtime.register_renderer("stats")
def render_tick(user, event):
    """Only a signal, the same for every subscriber of the host's group (who joined it by their
    rights, and whose socket closes when those change): open graphs of the host or of its VMs
    fetch their new points (static/js/graphs.js)."""
    return realtime.signal(f"stats-{int(event['id'])}")
