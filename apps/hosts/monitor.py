"""The monitor: the one producer of live state.

It keeps one libvirt connection per host, listens for libvirt events, and once per tick makes one
bulk call per host. It knows no app by name: apps register handlers here (in their AppConfig.ready)
for what they care about — connect, tick, and event kinds such as "domain".

Faults stay where they happen: one handler failing does not skip the others, one object failing
(a pool, a VM: `isolated`) does not skip the rest of its host's sync, and a failure that repeats
every tick is logged once with its traceback, then as a count (`Faults`).
"""

import logging
import queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db import connection as db_connection

from apps.core.errors import VirtError

from .models import Host
from .services import host_mark_down, host_mark_up
from .virt import capabilities, connection, demo, events
from .virt.info import host_info

log = logging.getLogger(__name__)

_connect_handlers = []
_tick_handlers = []
_event_handlers: dict[str, list] = {}


def on_connect(fn):
    """fn(host, conn): called after (re)connecting, before the first tick — a full resync."""
    _connect_handlers.append(fn)
    return fn


def on_tick(fn=None, *, every=None):
    """fn(host, conn): called once per tick per connected host, or at most once every `every`
    seconds for slower, costlier resyncs (storage pools, whose volumes have no events)."""

    def deco(f):
        _tick_handlers.append((f, every))
        return f

    return deco(fn) if fn is not None else deco


def on_event(kind):
    """fn(host, conn, payload): called for each libvirt event of that kind."""

    def deco(fn):
        _event_handlers.setdefault(kind, []).append(fn)
        return fn

    return deco


# Seconds between the "same error N times" lines of a failure that persists.
REPEAT_LOG_EVERY = 600.0


@dataclass
class _Fault:
    signature: str
    count: int
    logged_at: float


class Faults:
    """What keeps failing, by key (host id first), so that a failure repeating every tick is logged
    once with its traceback, then as "same error N times" now and then, and once more when it
    clears — instead of a full traceback every tick."""

    def __init__(self):
        self._seen: dict[tuple, _Fault] = {}

    def failed(self, key, what, exc):
        signature = f"{type(exc).__name__}: {exc}".strip()
        now = time.monotonic()
        fault = self._seen.get(key)
        if fault is None or fault.signature != signature:
            self._seen[key] = _Fault(signature, 1, now)
            log.error("monitor: %s failed: %s", what, signature, exc_info=exc)
            return
        fault.count += 1
        if now - fault.logged_at >= REPEAT_LOG_EVERY:
            fault.logged_at = now
            log.error("monitor: %s still failing, same error %d times: %s", what, fault.count, signature)

    def cleared(self, key, what):
        fault = self._seen.pop(key, None)
        if fault is not None:
            log.info("monitor: %s works again after failing %d times", what, fault.count)

    def count(self, key):
        """How many times in a row this key has failed (0: it works)."""
        fault = self._seen.get(key)
        return fault.count if fault is not None else 0

    def forget(self, host_id):
        for key in [k for k in self._seen if k[0] == host_id]:
            del self._seen[key]


faults = Faults()


@contextmanager
def isolated(host, conn, what):
    """One object's part of a host's sync (a pool, a VM), in a savepoint of its own: if it fails,
    its writes are rolled back, the failure is logged (once, see Faults) and the caller goes on
    with the next object. A libvirt error from a connection that is gone still propagates: the
    monitor then reconnects the host, rather than log every object of a host that went away."""
    key = (host.pk, what)
    label = f"{host.name}: {what}"
    try:
        with transaction.atomic():
            yield
    except Exception as exc:
        if isinstance(exc, VirtError) and not connection.alive(conn):
            raise
        faults.failed(key, label, exc)
    else:
        faults.cleared(key, label)


def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))


def read_host(conn):
    """What the monitor stores about a host each time it connects: facts and capabilities (the
    apps keep their own objects through their handlers: networks, pools, VMs)."""
    return {"info": host_info(conn), "facts": capabilities.read_facts(conn)}


class Session:
    def __init__(self, host):
        self.host = host
        self.conn = None
        self.watch = None
        self.retry_at = 0.0
        self.delay = 0.0
        self.last_run: dict = {}  # slow tick handler -> monotonic time it last ran

    @property
    def connected(self):
        return self.conn is not None


class Monitor:
    def __init__(self, tick=None, reconnect_max=None):
        self.tick = tick or settings.KVMWEB_MONITOR_TICK
        self.reconnect_max = reconnect_max or settings.KVMWEB_RECONNECT_MAX
        self.sessions: dict[int, Session] = {}
        self.inbox: queue.Queue = queue.Queue()
        self.stopping = threading.Event()

    # -- events from the libvirt loop thread --------------------------------------------------
    def sink(self, kind, host_id, payload):
        self.inbox.put((kind, host_id, payload))

    # -- main loop ------------------------------------------------------------------------------
    def run(self):
        events.start_loop()
        while not self.stopping.is_set():
            close_old_connections()
            self._guard(self.sync_hosts)
            deadline = time.monotonic() + self.tick
            while not self.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    kind, host_id, payload = self.inbox.get(timeout=remaining)
                except queue.Empty:
                    break
                self._guard(self.dispatch, kind, host_id, payload)
            for session in list(self.sessions.values()):
                if session.connected:
                    self._guard(self.tick_host, session)
        for session in self.sessions.values():
            self.disconnect(session)
        db_connection.close()

    def stop(self):
        self.stopping.set()

    def _guard(self, fn, *args):
        """One host's or one event's failure must not stop the monitor."""
        key = (None, _name(fn))
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 — logged by Faults, with its traceback the first time
            faults.failed(key, _name(fn), exc)
            close_old_connections()
        else:
            faults.cleared(key, _name(fn))

    def _call(self, session, handler, *args):
        """Run one app's handler for a host, apart from the others: its failure is logged (once,
        see Faults) and the next handler still runs. Returns False when the failure was the
        host's connection going away: the session is then lost, and the caller stops."""
        key = (session.host.pk, _name(handler))
        label = f"{session.host.name}: {_name(handler)}"
        try:
            handler(session.host, session.conn, *args)
        except VirtError as exc:
            if not connection.alive(session.conn):
                self.lost(session, str(exc))
                return False
            faults.failed(key, label, exc)
        except Exception as exc:  # noqa: BLE001 — logged by Faults, with its traceback the first time
            faults.failed(key, label, exc)
            close_old_connections()
        else:
            faults.cleared(key, label)
        return True

    # -- hosts ----------------------------------------------------------------------------------
    def sync_hosts(self):
        """Follow the Host table on every pass: added hosts are connected, removed ones dropped,
        and a host whose URI was edited is reconnected — no restart needed."""
        hosts = {h.pk: h for h in Host.objects.all()}
        for host_id in set(self.sessions) - set(hosts):
            self.disconnect(self.sessions.pop(host_id))
            faults.forget(host_id)
        now = time.monotonic()
        for host_id, host in hosts.items():
            session = self.sessions.get(host_id)
            if session is None or session.host.uri != host.uri:
                if session is not None:
                    self.disconnect(session)
                session = self.sessions[host_id] = Session(host)
            session.host = host
            if not session.connected and now >= session.retry_at:
                self.connect(session)

    def connect(self, session):
        host = session.host
        try:
            conn = connection.open_connection(host.uri)
            session.watch = events.Watch(conn, host.pk, self.sink).start()
            session.conn = conn
            if demo.is_shared_test_uri(host.uri) and settings.KVMWEB_DEMO_NODE:
                demo.seed(conn, settings.KVMWEB_DEMO_NODE)
            facts = read_host(conn)
        except VirtError as exc:
            self.disconnect(session)
            session.delay = min(max(session.delay * 2, 1.0), self.reconnect_max)
            session.retry_at = time.monotonic() + session.delay
            host_mark_down(host=host, reason=str(exc))
            return
        session.delay = 0.0
        session.last_run.clear()
        host_mark_up(host=host, **facts)
        for handler in _connect_handlers:
            if not self._call(session, handler):
                return
        log.info("monitor: connected to %s (%s)", host.name, host.uri)

    def disconnect(self, session):
        if session.watch is not None:
            session.watch.stop()
        session.watch = None
        session.conn = None

    def tick_host(self, session):
        now = time.monotonic()
        for handler, every in _tick_handlers:
            if every is not None and now - session.last_run.get(handler, 0.0) < every:
                continue
            session.last_run[handler] = now
            if not self._call(session, handler):
                return

    def lost(self, session, reason):
        self.disconnect(session)
        session.retry_at = time.monotonic() + 1.0
        session.delay = 1.0
        host_mark_down(host=session.host, reason=reason)
        log.warning("monitor: lost %s: %s", session.host.name, reason)

    def dispatch(self, kind, host_id, payload):
        session = self.sessions.get(host_id)
        if session is None or not session.connected:
            return
        if kind == "closed":
            self.lost(session, payload["reason"])
            return
        for handler in _event_handlers.get(kind, []):
            if not self._call(session, handler, payload):
                return
