"""The monitor's half of the graphs: each tick, the usage of a host and its VMs into Redis.

Called by compute's tick handler with the listing it already has (the counters came with the bulk
call), plus the host's counters (three cheap calls). Per host and tick: one pipeline — a point per
running VM and the host, and at each minute (and quarter hour) their averages with min and max —
and one live event, on which open graphs fetch what is new. Never a query per VM to PostgreSQL.

What is kept between ticks lives here, in the monitor's memory: the last counters (rates are
deltas), the buckets in progress, and the last quarter hour of minute buckets, which rank the
busiest VMs. A monitor that restarts starts the rates over and loses the minute in progress.
"""

import time
from collections import deque
from dataclasses import dataclass, field

from apps.core import realtime
from apps.core.series import store
from apps.core.series.buckets import Bucket, merged
from apps.hosts import monitor
from apps.hosts import stats as host_stats
from apps.hosts.virt import stats as host_virt

from . import busiest, metrics

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
    minutes: dict = field(default_factory=dict)  # (kind, ident) -> Bucket of the minute in progress
    quarters: dict = field(default_factory=dict)  # (kind, ident) -> Bucket of the quarter in progress
    recent: dict = field(default_factory=dict)  # VM uuid -> deque of its last minute buckets
    made: set = field(default_factory=set)  # ring keys this process has created


_hosts: dict[int, _Host] = {}


def forget(host_id):
    _hosts.pop(host_id, None)


def _layout(kind):
    return metrics.LAYOUT if kind == metrics.KIND else host_stats.LAYOUT


def _ring(state, batch, kind, ident, resolution, record):
    ring = store.key(kind, ident, resolution)
    if ring not in state.made:
        batch.create(ring, resolution, len(record))
        state.made.add(ring)
    return ring


def _point(state, batch, kind, ident, ts, values, resolution, slot):
    layout = _layout(kind)
    record = layout.pack_point(ts, values)
    batch.put(_ring(state, batch, kind, ident, resolution, record), slot, record)
    bucket = state.minutes.get((kind, ident))
    if bucket is None:
        bucket = state.minutes[(kind, ident)] = Bucket(state.minute, len(layout.fields))
    bucket.add(values)


def _write_bucket(state, batch, kind, ident, resolution, bucket):
    record = _layout(kind).pack_bucket(bucket.start, bucket.averages(), bucket.minima(), bucket.maxima())
    batch.put(_ring(state, batch, kind, ident, resolution, record), store.slot_of(resolution, bucket.start), record)
    batch.touch(store.key(kind, ident, resolution), resolution)


def _close_minute(state, batch, host_id, tick):
    """The minute is over: its buckets become 1-minute records and feed the quarter's buckets and
    the busiest ranking; the full-resolution rings' expiry is renewed."""
    for (kind, ident), bucket in state.minutes.items():
        if bucket.empty:
            continue
        _write_bucket(state, batch, kind, ident, store.MINUTES, bucket)
        batch.touch(store.key(kind, ident, tick), tick)
        quarter = state.quarters.get((kind, ident))
        if quarter is None:
            quarter = state.quarters[(kind, ident)] = Bucket(state.quarter, bucket_width(kind))
        quarter.merge(bucket)
        if kind == metrics.KIND:
            state.recent.setdefault(ident, deque(maxlen=RECENT)).append(bucket)
    state.minutes = {}
    oldest = state.minute - (RECENT - 1) * store.MINUTE
    for ident in list(state.recent):
        kept = state.recent[ident]
        while kept and kept[0].start < oldest:
            kept.popleft()
        if not kept:
            del state.recent[ident]
    busiest.write(batch, host_id, {ident: merged(kept, oldest, WIDTH) for ident, kept in state.recent.items()})


def bucket_width(kind):
    return len(_layout(kind).fields)


def _close_quarter(state, batch):
    for (kind, ident), bucket in state.quarters.items():
        if not bucket.empty:
            _write_bucket(state, batch, kind, ident, store.QUARTERS, bucket)
    state.quarters = {}


def record(host, conn, infos, *, now=None):
    """One tick of a host: `infos` is the listing of this tick (domains.list_domains). A failure
    is the monitor's to log (once); a connection that died propagates, as for the inventory."""
    with monitor.isolated(host, conn, "graphs"):
        _record(host, host_virt.host_counters(conn), infos, now or time.time())


def _record(host, counters, infos, now, r=None):
    state = _hosts.setdefault(host.pk, _Host())
    tick = store.tick_resolution()
    batch = store.Batch(r)
    minute = int(now // store.MINUTE * store.MINUTE)
    if minute != state.minute:
        if state.minute:
            _close_minute(state, batch, host.pk, tick)
        state.minute = minute
    quarter = int(now // store.QUARTER * store.QUARTER)
    if quarter != state.quarter:
        if state.quarter:
            _close_quarter(state, batch)
        state.quarter = quarter
    state.seq = max(state.seq + 1, int(now // tick.step))
    slot = state.seq % tick.slots
    seconds = now - state.at if state.at else 0.0
    if seconds > 0:
        _point(state, batch, host_stats.KIND, host.pk, now, host_stats.values(state.counters, counters), tick, slot)
    before, after = state.vms, {}
    for info in infos:
        if info.counters is None:
            continue
        after[info.uuid] = info.counters
        previous = before.get(info.uuid)
        if previous is not None and seconds > 0:
            values = metrics.values(previous, info.counters, seconds, counters.cpus)
            _point(state, batch, metrics.KIND, metrics.ident(host.pk, info.uuid), now, values, tick, slot)
    state.at, state.counters, state.vms = now, counters, after
    batch.send()
    realtime.publish(realtime.host_group(host.pk), "stats", id=host.pk)


@realtime.register_renderer("stats")
def render_tick(user, event):
    """Only a signal, the same for every subscriber of the host's group (who joined it by their
    rights, and whose socket closes when those change): open graphs of the host or of its VMs
    fetch their new points (static/js/graphs.js)."""
    return realtime.signal(f"stats-{int(event['id'])}")
