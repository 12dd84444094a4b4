"""One libvirt connection per host URI per process, reopened with backoff when it breaks.

Web, workers and the monitor each keep their own cache; a call that finds the connection dead
reopens it once, and a host that keeps refusing is not retried before its backoff expires, so
a down host costs a page nothing but a quick "unreachable" answer.
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

_lock = threading.Lock()
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


def get(uri):
    with _lock:
        conn = _conns.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except libvirt.libvirtError:
                pass
            _conns.pop(uri, None)
            _close_quietly(conn)
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


def drop(uri):
    with _lock:
        conn = _conns.pop(uri, None)
        _failures.pop(uri, None)
    if conn is not None:
        _close_quietly(conn)


def _close_quietly(conn):
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


@contextmanager
def connected(uri):
    """Yield the host's connection; libvirt errors inside become VirtError."""
    conn = get(uri)
    try:
        yield conn
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
