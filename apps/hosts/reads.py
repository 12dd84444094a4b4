"""A page's read of libvirt, for the few pages that ask the host directly (an XML editor's
starting text): the one place such a read meets VirtError, so a host that does not answer is a
sentence on the page, never a 500."""

from apps.core.errors import VirtError

from .virt import connection


def read(fn, default=None):
    """(fn(), "") or (default, the adapter's message)."""
    try:
        return fn(), ""
    except VirtError as exc:
        return default, str(exc)


def read_on_host(host, fn, default=None):
    """read() of fn(conn) over the host's connection."""

    def run():
        with connection.connected(host.uri) as conn:
            return fn(conn)

    return read(run, default)
