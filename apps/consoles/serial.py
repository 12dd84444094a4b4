"""Attaching to a VM's serial console from the web process: each attachment has its own libvirt
connection, opened after libvirt's event loop is running here (the stream's data comes through
it), and closed with the attachment."""

from apps.compute.virt.consoles import SerialStream
from apps.core.errors import VirtError
from apps.hosts.virt import connection, events


class Held(Exception):
    """Another session (outside kvmweb) holds the console."""


def attach(vm, on_data, on_end, force):
    events.start_loop()
    conn = connection.open_connection(vm.host.uri)
    try:
        return conn, SerialStream(conn, str(vm.uuid), on_data=on_data, on_end=on_end, force=force)
    except VirtError as exc:
        connection.close_quietly(conn)
        if "active console session" in str(exc).lower():
            raise Held() from None
        raise


def detach(conn, stream):
    if stream is not None:
        stream.close()
    if conn is not None:
        connection.close_quietly(conn)
