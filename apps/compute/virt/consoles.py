"""A running domain's consoles: where its graphical display listens (with its password, which
only the relay ever sees), its serial console as a libvirt stream, and its screen as an image.

The serial stream is non-blocking and driven by libvirt's event loop: its callbacks run on the
event-loop thread and only hand bytes on, so a slow browser or guest stalls nobody else.
"""

import logging
import time
from dataclasses import dataclass, field

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .domains import lookup, state_of
from .xml import Domain

log = logging.getLogger(__name__)

# Where a display listening on every address is reached from the host itself.
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True)
class Display:
    type: str  # vnc | spice
    address: str = ""  # where to connect on the host ("" when it listens on a unix socket)
    port: int | None = None
    socket: str = ""
    tls_port: int | None = None
    password: str | None = field(default=None, repr=False)  # never logged, never sent to a browser


@dataclass(frozen=True)
class Consoles:
    state: str
    displays: tuple[Display, ...]
    serial: bool  # a serial port or console device that `open_console` can attach to

    def display(self, type_):
        return next((d for d in self.displays if d.type == type_), None)


def _display(graphics):
    listen = graphics.listen_socket or ""
    address = "" if listen else ANY_ADDRESS.get(graphics.listen or "", graphics.listen)
    port = graphics.port if graphics.port and graphics.port > 0 else None
    tls_port = graphics.tls_port if graphics.tls_port and graphics.tls_port > 0 else None
    return Display(graphics.type, address, port, listen, tls_port, graphics.passwd)


def graphics_fd(conn, uuid, type_="vnc") -> int:
    """A socket already connected to the running domain's display, from libvirt itself
    (virDomainOpenGraphicsFD, passed over libvirt's unix socket): no address to reach, and the
    display skips its password for it. Local connections only; VirtError where it cannot."""
    dom = lookup(conn, uuid)
    try:
        doc = Domain.parse(dom.XMLDesc(0))
        index = next((i for i, g in enumerate(doc.graphics) if g.type == type_), None)
        if index is None:
            raise VirtError(f"The running domain has no {type_} display.")
        return dom.openGraphicsFD(index, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def consoles(conn, uuid) -> Consoles:
    """The running domain's displays (from its live XML, read with the secure flag for the
    password) and whether it has a serial console."""
    dom = lookup(conn, uuid)
    try:
        state, _reason = state_of(*dom.state())
        doc = Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    displays = tuple(_display(g) for g in doc.graphics if g.type in ("vnc", "spice"))
    return Consoles(state, displays, bool(doc.serials or doc.consoles))


class SerialStream:
    """One attachment to a domain's serial console. `on_data(bytes)` gets the guest's output and
    `on_end(reason)` is called once when the stream ends; both run on libvirt's event-loop thread.

    The connection must have been opened after libvirt's event loop was registered (a stream's
    events come through it); the stream owns nothing else."""

    EVENTS = libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP

    def __init__(self, conn, uuid, *, on_data, on_end, force=False):
        self.on_data, self.on_end = on_data, on_end
        self.ended = False
        dom = lookup(conn, uuid)
        try:
            self.stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
            flags = libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else libvirt.VIR_DOMAIN_CONSOLE_SAFE
            dom.openConsole(None, self.stream, flags)
            self.stream.eventAddCallback(self.EVENTS, self._event, None)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None

    def _event(self, stream, events, _opaque):
        if events & libvirt.VIR_STREAM_EVENT_READABLE:
            while not self.ended:
                try:
                    data = stream.recv(65536)
                except libvirt.libvirtError as exc:
                    self._end(str(from_libvirt(exc)))
                    return
                if data == -2:  # nothing more for now
                    break
                if not data:
                    self._end("The console was closed.")
                    return
                self.on_data(data)
        if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
            self._end("The console was closed.")

    def _end(self, reason):
        if self.ended:
            return
        self.ended = True
        try:
            self.stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
        self.on_end(reason)

    def send(self, data: bytes):
        """Type into the console. A guest that reads slower than someone pastes makes the stream
        refuse for a moment (-2): what it did not take is retried, a few times, then dropped."""
        view = memoryview(data)
        for _ in range(50):
            if not view or self.ended:
                return
            try:
                sent = self.stream.send(bytes(view))
            except libvirt.libvirtError as exc:
                raise from_libvirt(exc) from None
            if sent == -2:
                time.sleep(0.02)
                continue
            view = view[sent:]

    def close(self):
        """Detach (the guest's console stays as it is, free for the next session)."""
        was_ended = self.ended
        self.ended = True
        try:
            if not was_ended:
                self.stream.eventRemoveCallback()
            self.stream.abort()
        except libvirt.libvirtError:
            pass


def screenshot(conn, uuid) -> tuple[str, bytes]:
    """The domain's screen as (mime type, bytes), as QEMU writes it (PPM or PNG)."""
    dom = lookup(conn, uuid)
    chunks = []
    try:
        stream = conn.newStream(0)
        mime = dom.screenshot(stream, 0, 0)
        stream.recvAll(lambda _s, data, acc: acc.append(data) or 0, chunks)
        stream.finish()
    except libvirt.libvirtError as exc:
        raise VirtError(str(from_libvirt(exc))) from None
    return mime or "", b"".join(chunks)
