"""The rings in Redis: one string per object and resolution, of fixed-size records.

A ring is created at its full size (zeros) the first time the monitor writes it, then each record
is a SETRANGE into its slot: no string grows, none is trimmed, the size of the data is known in
advance (see bench/stats.py) and a write is one small command. The slot of a downsampled record is
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


# Creates the ring at its full size, zeroed, unless it exists; sets its expiry either way.
_ENSURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], string.rep('\\0', tonumber(ARGV[1])))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
"""


class Batch:
    """Everything one host's tick writes, sent as one pipeline."""

    def __init__(self, r=None):
        self.redis = r or client()
        self.pipe = self.redis.pipeline(transaction=False)
        self._ensure = self.redis.register_script(_ENSURE)

    def create(self, ring_key, resolution, record_size):
        """Make the ring if it is missing (a recorder does this once per ring and process)."""
        self._ensure(keys=[ring_key], args=[resolution.slots * record_size, resolution.ttl], client=self.pipe)

    def put(self, ring_key, slot, record):
        self.pipe.setrange(ring_key, slot * len(record), record)

    def touch(self, ring_key, resolution):
        self.pipe.expire(ring_key, resolution.ttl)

    def send(self):
        if len(self.pipe):
            self.pipe.execute()


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
