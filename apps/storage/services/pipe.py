"""A bounded byte pipe through Redis between the web server and a worker, one per Operation.

Why Redis: libvirt is called only in the worker and the web server must not put a volume on its
own disk, so the bytes cross between the two processes in pieces. The list holds at most
MAX_QUEUED chunks and the producer waits while it is full, so a transfer costs a few MiB of memory
whatever its size; every key expires KEY_TTL after its last use, so an abandoned transfer cleans
itself up.

Items are bytes with a one-byte tag: b"d" data, b"e" end of data, b"x" + reason: the producer gave
up. The announcement (download length and name) travels in its own list so the consumer can wait
for it with BLPOP, and popping it also claims the download for one reader.
"""

import asyncio
import json
import time
from functools import cache

import redis
import redis.asyncio as aioredis
from django.conf import settings

CHUNK_SIZE = 2 << 20  # below Django's 2.5 MiB in-memory limit for request bodies: never spooled to disk
MAX_QUEUED = 4  # chunks waiting in Redis per transfer: at most 8 MiB
KEY_TTL = 600  # seconds an idle transfer's keys live
DATA, END, ABORT = b"d", b"e", b"x"

# Atomically: accept a chunk only at the expected offset and while the list has room.
# Returns {1, received} pushed, {0, received} full (try again), {-1, received} wrong offset.
_PUSH = """
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if n ~= tonumber(ARGV[1]) then return {-1, n} end
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return {0, n} end
redis.call('RPUSH', KEYS[1], ARGV[4])
n = redis.call('INCRBY', KEYS[2], tonumber(ARGV[5]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, n}
"""


@cache
def _client(url):
    return redis.Redis.from_url(url, socket_timeout=30)


@cache
def _push_script(url):
    return _client(url).register_script(_PUSH)


class Pipe:
    def __init__(self, op_id):
        base = f"kvmweb:transfer:{op_id}:"
        self.queue, self.count, self.meta = base + "q", base + "n", base + "meta"
        self.gone, self.claim = base + "gone", base + "claim"
        self.url = settings.REDIS_URL
        self.r = _client(self.url)

    # -- producer side ---------------------------------------------------------------------

    def offer(self, offset, data):
        """One try at pushing `data` at `offset`: (status, received) as the script returns it."""
        status, received = _push_script(self.url)(
            keys=[self.queue, self.count], args=[offset, MAX_QUEUED, KEY_TTL, DATA + data, len(data)]
        )
        return int(status), int(received)

    def put(self, data, *, check, stall):
        """Push `data` once the list has room; call check() about once a second while waiting (it
        raises to stop). Waiting `stall` seconds without the consumer taking anything fails."""
        delay, waited, checked = 0.01, 0.0, time.monotonic()
        while self.r.llen(self.queue) >= MAX_QUEUED:
            if time.monotonic() - checked >= 1:
                check()
                checked = time.monotonic()
            if waited > stall:
                raise TimeoutError
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.25)
        self.r.pipeline().rpush(self.queue, DATA + data).expire(self.queue, KEY_TTL).execute()

    def end(self):
        self.r.pipeline().rpush(self.queue, END).expire(self.queue, KEY_TTL).execute()

    def abort(self, reason):
        self.r.pipeline().rpush(self.queue, ABORT + reason.encode()).expire(self.queue, KEY_TTL).execute()

    def announce(self, **meta):
        self.r.pipeline().rpush(self.meta, json.dumps(meta)).expire(self.meta, KEY_TTL).execute()

    # -- consumer side ---------------------------------------------------------------------

    def pop(self, timeout=1):
        """(tag, payload) of the next item, or None after `timeout` seconds without one."""
        item = self.r.blpop([self.queue], timeout=timeout)
        return None if item is None else (item[1][:1], item[1][1:])

    def take_announcement(self, *, timeout, check):
        """The producer's announcement, claimed once: a second reader gets None at once."""
        if not self.r.set(self.claim, 1, nx=True, ex=KEY_TTL):
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = self.r.blpop([self.meta], timeout=1)
            if item is not None:
                return json.loads(item[1])
            check()
        raise TimeoutError

    def mark_gone(self):
        self.r.set(self.gone, 1, ex=KEY_TTL)

    def is_gone(self):
        return bool(self.r.exists(self.gone))

    def close(self):
        self.r.delete(self.queue, self.count, self.meta, self.claim)

    async def relay(self, *, stall):
        """Yield the data as it arrives, for a StreamingHttpResponse under ASGI. It stops early when
        the producer aborts or stalls; the response then ends short of its Content-Length, and the
        browser reports the download as failed rather than keeping a truncated file. If the
        browser goes away first, the producer is told through the "gone" flag."""
        client = aioredis.Redis.from_url(self.url, socket_timeout=30)
        complete = False
        try:
            idle_since = asyncio.get_running_loop().time()
            while True:
                item = await client.blpop([self.queue], timeout=1)
                if item is None:
                    if asyncio.get_running_loop().time() - idle_since > stall:
                        return
                    continue
                idle_since = asyncio.get_running_loop().time()
                tag, payload = item[1][:1], item[1][1:]
                if tag == DATA:
                    yield payload
                elif tag == END:
                    complete = True
                    return
                else:
                    return
        finally:
            if not complete:
                await client.set(self.gone, 1, ex=KEY_TTL)
            await client.aclose()
