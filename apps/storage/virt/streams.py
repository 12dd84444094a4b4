"""Volume upload and download through libvirt's stream API (virStream).

The bytes travel between the worker and libvirtd over the libvirt connection itself, so the same
code serves a remote host (qemu+ssh://, qemu+tls://) and never touches the web server's disk.
Streams here are blocking: the worker has nothing else to do while it transfers.
"""

from collections.abc import Iterable, Iterator

import libvirt

from apps.core.errors import from_libvirt
from apps.storage.virt.volumes import lookup

# libvirt's RPC carries stream data in packets of at most 256 KiB; sending slices of that size keeps
# each virStreamSend one packet, whatever chunk size the caller hands us.
SEND_SLICE = 256 * 1024


def _abort_quietly(stream):
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass


def upload(conn, pool_uuid, name, length, chunks: Iterable[bytes]) -> int:
    """Write `length` bytes taken from `chunks` into the volume, from offset 0.

    Whatever the chunk source raises (a cancel, more data than declared, a stall) aborts the stream
    and propagates unchanged, so libvirt keeps nothing pending; libvirt's own errors become
    VirtError. Returns the number of bytes written.
    """
    vol = lookup(conn, pool_uuid, name)
    try:
        stream = conn.newStream(0)
        vol.upload(stream, 0, length, 0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    written = 0
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                sent = stream.send(bytes(view[:SEND_SLICE]))
                view = view[sent:]
                written += sent
        stream.finish()
    except libvirt.libvirtError as exc:
        _abort_quietly(stream)
        raise from_libvirt(exc) from None
    except BaseException:
        _abort_quietly(stream)
        raise
    return written


def download_length(conn, pool_uuid, name) -> int:
    """How many bytes a download yields: the file's physical size (a qcow2 file, not its virtual
    size), or the capacity where the backend has no separate physical size (block devices)."""
    vol = lookup(conn, pool_uuid, name)
    try:
        _type, capacity, physical = vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    return physical or capacity


def download(conn, pool_uuid, name, length, *, chunk_size) -> Iterator[bytes]:
    """Yield the volume's first `length` bytes as libvirt sends them (pieces of up to chunk_size).

    Closing the generator early (the consumer stopped or was cancelled) aborts the stream.
    """
    vol = lookup(conn, pool_uuid, name)
    try:
        stream = conn.newStream(0)
        vol.download(stream, 0, length, 0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    finished = False
    try:
        while True:
            data = stream.recv(chunk_size)
            if not data:
                break
            yield data
        stream.finish()
        finished = True
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    finally:
        if not finished:
            _abort_quietly(stream)


def head(conn, pool_uuid, name, size) -> bytes:
    """The volume's first `size` bytes (fewer if it is shorter), as libvirt stores them: read
    through the stream API, so it works on every pool type and on a remote host alike."""
    length = min(size, download_length(conn, pool_uuid, name))
    if length <= 0:
        return b""
    return b"".join(download(conn, pool_uuid, name, length, chunk_size=length))
