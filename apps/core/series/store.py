"""The rings in Redis: one string per object and resolution, of fixed-size records.

A ring is created at its full size (zeros) the first time the monitor writes it, then each record
is a SETRANGE into its slot: no string grows, none is trimmed, and the size of the data is known
in advance (see bench/stats.py). The SETRANGEs of one host's tick go in one script call. The slot of a downsampled record is
its period's number modulo the ring's length; the full-resolution ring's slots follow the monitor's
ticks (the recorder counts them). A reader takes the whole string and keeps the records whose time
falls in its range, so a slot left over from a lap before, or never written (time 0), is skipped.

Every key expires a while after the last of its range would have: a VM or host that is gone, or
stops, leaves nothing behind for long.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

PREFIX = "kvmweb:stats:"
MINUTE, QUARTER, HOUR, DAY = 60, 900, 3600, 86400


@dataclass(frozen=True)
class Resolution:
    name: str
    step: float  # seconds per record
    keep: int  # seconds a graph can show at this resolution
    downsampled: bool

    @property
    def slots(self):
        # A little more than the range, so that the oldest point of a full range is still there.
        return math.ceil(self.keep * 1.02 / self.step) + 2

    @property
    def ttl(self):
        return int(self.keep + max(10 * MINUTE, 4 * self.step))


def tick_resolution(tick=None):
    """Full resolution: one point per monitor tick, for an hour."""
    return Resolution("tick", float(tick or settings.KVMWEB_MONITOR_TICK), HOUR, False)


MINUTES = Resolution("1m", MINUTE, DAY, True)
QUARTERS = Resolution("15m", QUARTER, 7 * DAY, True)


def key(kind, ident, resolution):
    return f"{PREFIX}{kind}:{ident}:{resolution.name}"


@lru_cache
def _client(url):
    return redis.Redis.from_url(url, socket_timeout=5)


def client():
    return _client(settings.REDIS_URL)


# Writes one record into each ring at the same offset (one tick, or one period, of a host's
# objects). A ring that is missing (new, expired, or Redis restarted) is made first, zeroed, at
# its full size. KEYS: the rings. ARGV: the offset, the record size, the records end to end in
# the order of KEYS, the expiry to renew (0: leave it), the ring size, the expiry of a new ring.
_PUT = """
local offset, size, records = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local renew, ring_size, new_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local zeros = nil
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then
    zeros = zeros or string.rep('\\0', ring_size)
    redis.call('SET', key, zeros, 'EX', new_ttl)
  end
  redis.call('SETRANGE', key, offset, string.sub(records, (i - 1) * size + 1, i * size))
  if renew > 0 then redis.call('EXPIRE', key, renew) end
end
"""
CHUNK = 1000  # rings per script call


class Batch:
    """Everything one host's tick writes, sent as one pipeline: the records that share a ring
    kind and an offset (the tick's points of every VM, a minute's buckets) go as one script call,
    so the monitor hands Redis a few commands a tick however many VMs the host runs."""

    def __init__(self, r=None):
        self.redis = r or client()
        self._commands = []  # (name, args) of the tick's other commands
        self._writes: dict[tuple, tuple[list, list]] = {}  # (resolution, offset, size, renew) -> (rings, records)

    def put(self, ring_key, resolution, slot, record, *, renew=False):
        """Write `record` into the ring's slot; with `renew`, renew the ring's expiry too."""
        size = len(record)
        rings, records = self._writes.setdefault((resolution, slot * size, size, renew), ([], []))
        rings.append(ring_key)
        records.append(record)

    def put_many(self, ring_keys, resolution, slot, records, *, renew=False):
        """`put` for many rings at once: records of one size, into one slot."""
        if not records:
            return
        size = len(records[0])
        rings, queued = self._writes.setdefault((resolution, slot * size, size, renew), ([], []))
        rings.extend(ring_keys)
        queued.extend(records)

    def command(self, name, *args, **kwargs):
        """Any other Redis command, sent with the tick's writes."""
        self._commands.append((name, args, kwargs))

    def _pipeline(self, put):
        pipe = self.redis.pipeline(transaction=False)
        for (resolution, offset, size, renew), (rings, records) in self._writes.items():
            ring_size, ttl = resolution.slots * size, resolution.ttl
            for i in range(0, len(rings), CHUNK):
                chunk = rings[i : i + CHUNK]
                blob = b"".join(records[i : i + CHUNK])
                pipe.evalsha(put, len(chunk), *chunk, offset, size, blob, ttl if renew else 0, ring_size, ttl)
        for name, args, kwargs in self._commands:
            getattr(pipe, name)(*args, **kwargs)
        return pipe

    def send(self):
        if not self._writes and not self._commands:
            return
        try:
            self._pipeline(_script(self.redis)).execute()
        except redis.exceptions.NoScriptError:
            # Redis restarted and forgot the script: load it again and send the tick again (the
            # writes are idempotent).
            _loaded.clear()
            self._pipeline(_script(self.redis)).execute()


_loaded: dict[str, str] = {}


def _script(r):
    """The write script's SHA1, loaded once per process and Redis (not checked in every pipeline,
    as redis-py's Script objects do with a SCRIPT EXISTS per execute)."""
    where = repr(sorted(r.connection_pool.connection_kwargs.items()))
    if where not in _loaded:
        _loaded[where] = r.script_load(_PUT)
    return _loaded[where]


def slot_of(resolution, start):
    """The slot of a downsampled period starting at `start`."""
    return int(start // resolution.step) % resolution.slots


def read_rings(keys, r=None):
    """The whole rings, in one round trip (b"" for a missing one)."""
    pipe = (r or client()).pipeline(transaction=False)
    for k in keys:
        pipe.get(k)
    return [blob or b"" for blob in pipe.execute()]


def read_recent(ring_keys, resolution, record_size, since, now, r=None):
    """The records of the periods from `since` to `now` of each downsampled ring, read with one or
    two GETRANGEs each (the range may wrap round the ring's end) in one round trip: what a small
    view of many objects needs (the VM list's sparklines), without the whole rings."""
    first, last = int(since // resolution.step), int(now // resolution.step)
    count = min(last - first + 1, resolution.slots)
    start = (last - count + 1) % resolution.slots
    pieces = [(start, min(count, resolution.slots - start))]
    if pieces[0][1] < count:
        pieces.append((0, count - pieces[0][1]))
    pipe = (r or client()).pipeline(transaction=False)
    for k in ring_keys:
        for slot, n in pieces:
            pipe.getrange(k, slot * record_size, (slot + n) * record_size - 1)
    blobs = pipe.execute()
    step = len(pieces)
    return [b"".join(blobs[i : i + step]) for i in range(0, len(blobs), step)]
