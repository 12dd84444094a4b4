"""One libvirt connection per host URI per process, reopened with backoff when it breaks.

Web, workers and the monitor each keep their own cache. A cached connection is checked before it
is handed out, and a dead one is reopened then, never handed to an operation: after libvirtd
restarts, the old socket is closed, but a process without libvirt's event loop (web, workers)
only learns that when it next writes — `isAlive()` still says yes, and the first call fails with
"Cannot write data: Broken pipe". So the check is one cheap round trip (a fraction of a
millisecond on the local socket), and its failure is the reason to reopen, once. A host that
keeps refusing is not retried before its backoff expires, so a down host costs a page nothing
but a quick "unreachable" answer.
"""

import threading
import time
from contextlib import contextmanager

import libvirt

from apps.core.errors import VirtError, from_libvirt


def _silence(_ctx, _err):
    # libvirt prints every error to stderr by default; ours are raised as VirtError instead.
    pass


libvirt.registerErrorHandler(_silence, None)

_lock = threading.Lock()  # guards the dictionaries below, never held during a libvirt call
_uri_locks: dict[str, threading.Lock] = {}  # one per URI: a slow host does not hold up the others
_conns: dict[str, libvirt.virConnect] = {}
_failures: dict[str, tuple[float, float, str]] = {}  # uri -> (retry_at, delay, message)

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0


def open_connection(uri):
    """Open a new connection, not cached (the monitor owns its connections)."""
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def alive(conn):
    """Does this connection still reach its daemon? `isAlive()` alone answers from what the
    client last saw; the round trip is what finds a socket the daemon closed since."""
    try:
        return bool(conn.isAlive()) and conn.getLibVersion() > 0
    except libvirt.libvirtError:
        return False


def _uri_lock(uri):
    with _lock:
        return _uri_locks.setdefault(uri, threading.Lock())


def get(uri):
    """The host's live connection: the cached one if it still answers, otherwise a new one."""
    with _uri_lock(uri):
        conn = _conns.get(uri)
        if conn is not None:
            if alive(conn):
                return conn
            _forget(uri, conn)
        failure = _failures.get(uri)
        if failure and failure[0] > time.monotonic():
            raise VirtError(f"Host unreachable: {failure[2]}")
        try:
            conn = open_connection(uri)
        except VirtError as exc:
            delay = min(failure[1] * 2, BACKOFF_MAX) if failure else BACKOFF_START
            _failures[uri] = (time.monotonic() + delay, delay, str(exc))
            raise
        _failures.pop(uri, None)
        _conns[uri] = conn
        return conn


def _forget(uri, conn):
    """Drop a dead `conn` from the cache (if it is still the cached one). It is not closed here:
    another thread may still be inside a call on it; it closes when its last user lets go."""
    with _lock:
        if _conns.get(uri) is conn:
            del _conns[uri]


def _dead(conn):
    """After a failed call: did it fail because the connection is gone? (Local, no round trip:
    a failed write or read has marked the client closed.)"""
    try:
        return not conn.isAlive()
    except libvirt.libvirtError:
        return True


def drop(uri):
    with _lock:
        conn = _conns.pop(uri, None)
        _failures.pop(uri, None)
    if conn is not None:
        close_quietly(conn)


def close_quietly(conn):
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


@contextmanager
def connected(uri):
    """Yield the host's live connection; libvirt errors inside become VirtError.

    A failure inside that was the connection dying (the daemon went away mid-operation) also
    drops it from the cache, so the next caller opens a new one at once. The failed work itself
    is not repeated here: it may have been half done, and only its caller knows whether it is
    safe to try again.
    """
    conn = get(uri)
    try:
        yield conn
    except libvirt.libvirtError as exc:
        if _dead(conn):
            _forget(uri, conn)
        raise from_libvirt(exc) from None
    except VirtError:
        if _dead(conn):
            _forget(uri, conn)
        raise
