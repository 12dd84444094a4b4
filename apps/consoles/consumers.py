"""The consoles' WebSockets: the browser talks to kvmweb only, kvmweb to the VM's display or
serial console. Each socket is authenticated by the Django session and checked against the right
on that one VM when it opens and again whenever the user's rights or sessions change (the
`live.close` message every socket of the user gets); an administrator's "close" and a serial
take-over arrive as `console.end`.

A refusal is sent as a close with a code and a reason the page shows (accepted first: a refused
handshake reads as a network fault to the browser):
4001 session ended, 4400 bad frame, 4403 no right, 4404 not found, 4409 not available now,
4429 too many consoles, 4000 closed by an administrator or a revoked right.
"""

import asyncio
import contextlib
import json
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.authz.rights import authorize
from apps.compute.selectors import vm_for
from apps.core import context, realtime
from apps.core.consumers import connect_refusal
from apps.core.errors import VirtError

from . import rfb, serial, services, targets, tunnel
from .access import FULL, VIEW, console_mode

log = logging.getLogger(__name__)

ENDED, BAD_FRAME, FORBIDDEN, NOT_FOUND, UNAVAILABLE, TOO_MANY, CLOSED = 4001, 4400, 4403, 4404, 4409, 4429, 4000
MAX_FRAME = 2 << 20  # bytes of one browser frame


def _client(scope):
    client = scope.get("client") or ("", 0)
    return context.client_ip({"REMOTE_ADDR": client[0]}) or ""


def _fit(reason):
    """A close reason as WebSocket allows it (123 bytes of UTF-8), cut at a word with "…"."""
    if len(reason.encode()) <= 123:
        return reason
    cut = reason.encode()[:119].decode(errors="ignore").rsplit(" ", 1)[0]
    return cut + " …"


def _deny(user, vm):
    with contextlib.suppress(Exception):
        authorize(user, "vm.console", vm)


class ConsoleConsumer(AsyncWebsocketConsumer):
    """What both consoles share: the checks when opening, the session row and its audit, the
    heartbeat, and ending once, whoever ends it."""

    kind = ""

    async def connect(self):
        self.session_id = None
        self.ended = False
        self.heartbeat = None
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return await self.refuse(ENDED, "Your session has ended; sign in again.")
        code = await database_sync_to_async(connect_refusal)(user)
        if code is not None:
            return await self.refuse(code, "Your account must finish its sign-in set-up first.")
        self.user = user
        self.client = _client(self.scope)
        self.vm = await database_sync_to_async(vm_for)(user, self.scope["url_route"]["kwargs"]["pk"])
        if self.vm is None:
            return await self.refuse(NOT_FOUND, "No such virtual machine.")
        self.mode = await database_sync_to_async(console_mode)(user, self.vm, self.kind)
        if self.mode is None:
            await database_sync_to_async(_deny)(user, self.vm)
            # The tab already said it in full (access.refusal); a close reason holds 123 bytes.
            return await self.refuse(FORBIDDEN, "You may not use this VM's console (the right vm.console).")
        reason = await self.prepare()
        if reason:
            return await self.refuse(UNAVAILABLE, reason)
        await self.channel_layer.group_add(realtime.user_group(user.pk), self.channel_name)
        try:
            self.session_id = (
                await database_sync_to_async(services.session_open)(
                    user,
                    self.vm,
                    self.kind,
                    view_only=self.view_only,
                    client=self.client,
                    channel_name=self.channel_name,
                )
            ).pk
        except services.ConsoleRefused as exc:
            await database_sync_to_async(services.refuse)(user, self.vm, self.kind, str(exc), client=self.client)
            return await self.refuse(exc.code, str(exc))
        self.heartbeat = asyncio.create_task(self._beat())
        await self.start()

    @property
    def view_only(self):
        return False

    async def prepare(self):
        """Why this console cannot open now (read from libvirt), or ""."""
        raise NotImplementedError

    async def start(self):
        raise NotImplementedError

    async def stop(self):
        """Release what start() opened (may run before start() finished)."""

    async def refuse(self, code, reason):
        """Before a session exists: say why, record it where a person asked for something
        they could not have, and close."""
        self.ended = True
        if code in (UNAVAILABLE, TOO_MANY) and getattr(self, "vm", None) is not None and self.session_id is None:
            await database_sync_to_async(services.refuse)(self.user, self.vm, self.kind, reason, client=self.client)
        await self.close(code=code, reason=_fit(reason))

    async def end(self, code, reason):
        """End the session once: release, record, close the socket with the reason."""
        if self.ended:
            return
        self.ended = True
        await self._release(reason)
        await self.close(code=code, reason=_fit(reason))

    async def _release(self, reason):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        try:
            await self.stop()
        except Exception:  # noqa: BLE001 - whatever broke, the session is over
            log.warning("console %s: releasing failed", self.session_id, exc_info=True)
        if self.session_id is not None:
            await database_sync_to_async(services.session_closed)(self.session_id, reason)
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(realtime.user_group(self.user.pk), self.channel_name)

    async def disconnect(self, code):
        if not self.ended:
            self.ended = True
            await self._release("Closed in the browser.")

    async def _beat(self):
        while True:
            await asyncio.sleep(services.HEARTBEAT.total_seconds())
            await database_sync_to_async(services.session_seen)(self.session_id)

    # -- messages from the rest of kvmweb ----------------------------------------------------

    async def live_close(self, event):
        """The user's rights or sessions changed: a console stays open only while its right does."""
        if event.get("code") == realtime.ENDED:
            return await self.end(ENDED, event.get("reason") or "Your session has ended.")
        mode = await database_sync_to_async(console_mode)(self.user, self.vm, self.kind)
        if mode is None or (self.mode == FULL and mode != FULL and not self.view_only):
            await self.end(CLOSED, "Your right to this console was revoked.")

    async def console_end(self, event):
        await self.end(event.get("code") or CLOSED, event.get("reason") or "Closed.")

    async def live_event(self, event):
        """Console sockets carry no live fragments."""


class VncConsumer(ConsoleConsumer):
    """noVNC in the browser <-> the relay <-> the VM's VNC server (see rfb.py)."""

    kind = "vnc"

    @property
    def view_only(self):
        asked = parse_qs(self.scope.get("query_string", b"").decode()).get("view_only") == ["1"]
        return self.mode == VIEW or asked

    async def prepare(self):
        self.writer = self.pump = None
        self.display, reason = await asyncio.to_thread(targets.vnc_display, self.vm)
        return reason

    async def start(self):
        try:
            reader, self.writer = await tunnel.open_display(self.vm.host.uri, self.display, str(self.vm.uuid))
            await asyncio.wait_for(rfb.authenticate(reader, self.writer, self.display.password), tunnel.CONNECT_TIMEOUT)
        except (tunnel.Unreachable, rfb.RFBError) as exc:
            return await self.end(UNAVAILABLE, str(exc))
        except (asyncio.IncompleteReadError, OSError, TimeoutError):
            return await self.end(UNAVAILABLE, "The VM's display closed the connection before it could be used.")
        self.handshake = rfb.BrowserHandshake()
        self.stream = rfb.ClientStream(view_only=self.view_only)
        self.pump = asyncio.create_task(self._from_display(reader))
        await self.send(bytes_data=self.handshake.greeting())

    async def _from_display(self, reader):
        try:
            while data := await reader.read(1 << 16):
                await self.send(bytes_data=data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        if not self.ended:
            await self.end(UNAVAILABLE, "The VM's display closed the connection (has the VM stopped?).")

    async def receive(self, text_data=None, bytes_data=None):
        if self.ended or getattr(self, "writer", None) is None:
            return
        if bytes_data is None or len(bytes_data) > MAX_FRAME:
            return await self.end(BAD_FRAME, "The browser sent a frame the console does not accept.")
        try:
            if self.handshake.step != "done":
                reply, init, bytes_data = self.handshake.feed(bytes_data)
                if reply:
                    await self.send(bytes_data=reply)
                if init is None:
                    return
                self.writer.write(bytes([init]))
            self.writer.write(self.stream.feed(bytes_data))
            await self.writer.drain()
        except rfb.RFBError as exc:
            await self.end(BAD_FRAME, str(exc))
        except OSError:
            await self.end(UNAVAILABLE, "The VM's display closed the connection.")

    async def stop(self):
        if getattr(self, "pump", None) is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()
        if getattr(self, "writer", None) is not None:
            self.writer.close()


class SerialConsumer(ConsoleConsumer):
    """xterm.js in the browser <-> libvirt's console stream of the VM (virDomainOpenConsole), one
    stream per socket over a connection of its own: what the guest prints goes to this browser
    only. A console held by another session is taken over only when the browser asks ("force"),
    after the person confirmed it, and the other session is told who took it."""

    kind = "serial"
    MAX_INPUT = 64 << 10

    async def prepare(self):
        self.stream = self.conn = None
        found, error = await asyncio.to_thread(targets.read, self.vm)
        return error or targets.serial_reason(self.vm, found)

    async def start(self):
        holder = await database_sync_to_async(services.serial_holder)(self.vm, besides=self.session_id)
        if holder is not None:
            self.holder = holder
            return await self._held(holder.user.get_full_name() or holder.user.get_username())
        await self._attach(force=False)

    async def _held(self, by):
        await self.send(text_data=json.dumps({"type": "held", "by": by}))

    async def _attach(self, *, force):
        loop = asyncio.get_running_loop()
        self.output = asyncio.Queue()

        def on_data(data):  # libvirt's event-loop thread
            loop.call_soon_threadsafe(self.output.put_nowait, data)

        def on_end(reason):
            loop.call_soon_threadsafe(self.output.put_nowait, reason)

        try:
            self.conn, self.stream = await asyncio.to_thread(serial.attach, self.vm, on_data, on_end, force)
        except serial.Held:
            self.holder = None
            return await self._held("a session outside kvmweb (virsh console?)")
        except VirtError as exc:
            return await self.end(UNAVAILABLE, f"The serial console could not be opened: {exc}")
        self.pump = asyncio.create_task(self._from_guest())
        await self.send(text_data=json.dumps({"type": "ready"}))

    async def _from_guest(self):
        while True:
            item = await self.output.get()
            if isinstance(item, str):  # the stream ended
                return await self.end(UNAVAILABLE, item)
            await self.send(bytes_data=item)

    async def receive(self, text_data=None, bytes_data=None):
        if self.ended:
            return
        try:
            if text_data is None or len(text_data) > self.MAX_INPUT:
                raise ValueError
            message = json.loads(text_data)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            return await self.end(BAD_FRAME, "The browser sent a frame the console does not accept.")
        if kind == "input" and isinstance(message.get("data"), str):
            if self.stream is not None:
                try:
                    await asyncio.to_thread(self.stream.send, message["data"].encode())
                except VirtError as exc:
                    await self.end(UNAVAILABLE, f"The serial console stopped: {exc}")
        elif kind == "force" and self.stream is None:
            await self._take_over()
        elif kind != "resize":  # a serial line has no size to tell the guest; the page fits itself
            await self.end(BAD_FRAME, "The browser sent a message the console does not know.")

    async def _take_over(self):
        holder = getattr(self, "holder", None)
        if holder is not None:
            name = self.user.get_full_name() or self.user.get_username()
            await database_sync_to_async(services.tell_session)(holder, f"Taken over by {name}.", code=UNAVAILABLE)
            await database_sync_to_async(services.session_closed)(holder.pk, f"Taken over by {name}.")
        await self._attach(force=True)

    async def stop(self):
        if getattr(self, "pump", None) is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()
        if self.stream is not None or self.conn is not None:
            await asyncio.to_thread(serial.detach, self.conn, self.stream)
