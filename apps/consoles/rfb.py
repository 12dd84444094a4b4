"""The RFB (VNC) protocol as far as the relay needs it.

Toward the VM's VNC server the relay is the client: it answers the server's authentication itself
(none, or the VNC password's DES challenge), so the password never leaves the server side. Toward
the browser it is a server that offers security type None, then passes bytes through. What the
browser sends is parsed message by message: a view-only session's keys, pointer and clipboard are
dropped, and anything that is not a well-formed client message of known size ends the session.

RFC 6143, plus the client messages noVNC sends to QEMU (QEMU's extended key events and audio,
continuous updates, fences, desktop size).
"""

import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

VERSION = b"RFB 003.008\n"
NONE, VNC_AUTH = 1, 2
MAX_CUT_TEXT = 1 << 20  # a pasted clipboard larger than 1 MiB ends the session


class RFBError(Exception):
    """The session cannot go on; the message is shown to the person."""


def vnc_response(password: str, challenge: bytes) -> bytes:
    """The VNC authentication answer: the challenge encrypted with DES, keyed by the password's
    first eight bytes with each byte's bits reversed (as VNC has always done)."""
    key = password.encode("latin-1", "replace")[:8].ljust(8, b"\0")
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in key)
    # DES is TripleDES with one key repeated; cryptography keeps it among its "decrepit" ciphers.
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


async def _reason(reader):
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    return (await reader.readexactly(min(length, 4096))).decode("utf-8", "replace")


async def authenticate(reader, writer, password):
    """Be the client of the VM's VNC server up to the end of its authentication."""
    version = await reader.readexactly(12)
    if not version.startswith(b"RFB 003.") or version < b"RFB 003.007\n":
        raise RFBError(f"The VM's display speaks an RFB version kvmweb does not ({version[:11]!r}).")
    writer.write(VERSION)
    (count,) = await reader.readexactly(1)
    if count == 0:
        raise RFBError(f"The VM's display refused the connection: {await _reason(reader)}")
    offered = set(await reader.readexactly(count))
    if NONE in offered and not password:
        chosen = NONE
    elif VNC_AUTH in offered and password:
        chosen = VNC_AUTH
    elif NONE in offered:
        chosen = NONE
    elif VNC_AUTH in offered:
        raise RFBError("The VM's display asks for a VNC password, and its definition holds none.")
    else:
        raise RFBError(f"The VM's display asks for an authentication kvmweb cannot answer (types {sorted(offered)}).")
    writer.write(bytes([chosen]))
    if chosen == VNC_AUTH:
        challenge = await reader.readexactly(16)
        writer.write(vnc_response(password, challenge))
    await writer.drain()
    (result,) = struct.unpack(">I", await reader.readexactly(4))
    if result != 0:
        raise RFBError(f"The VM's display refused kvmweb's password: {await _reason(reader)}")


class BrowserHandshake:
    """The relay's server side of the handshake with the browser, fed the browser's bytes.
    `feed(data)` returns (bytes to send the browser, the ClientInit byte once it arrived, or
    None, and what came after it)."""

    def __init__(self):
        self.buffer = b""
        self.step = "version"

    def greeting(self):
        return VERSION

    def feed(self, data):
        self.buffer += data
        out = b""
        if self.step == "version" and len(self.buffer) >= 12:
            version, self.buffer = self.buffer[:12], self.buffer[12:]
            if not version.startswith(b"RFB 003.008"):
                raise RFBError("The browser's VNC client speaks another RFB version.")
            out += bytes([1, NONE])
            self.step = "security"
        if self.step == "security" and len(self.buffer) >= 1:
            chosen, self.buffer = self.buffer[0], self.buffer[1:]
            if chosen != NONE:
                raise RFBError("The browser's VNC client chose a security type that was not offered.")
            out += struct.pack(">I", 0)
            self.step = "init"
        if self.step == "init" and len(self.buffer) >= 1:
            self.step = "done"
            rest, self.buffer = self.buffer[1:], b""
            return out, 1, rest  # always shared: others may be watching the same screen
        return out, None, b""


# Client-to-server message type -> (size of its fixed part, what to read for the variable part).
KEY, POINTER, CUT_TEXT, QEMU = 4, 5, 6, 255
INPUT = {KEY, POINTER, CUT_TEXT}


def _message_size(buf):
    """The size of the complete message at the head of buf, or None while it is incomplete."""
    kind = buf[0]
    fixed = {0: 20, 3: 10, KEY: 8, POINTER: 6, 150: 10, 252: 4}
    if kind in fixed:
        return fixed[kind] if len(buf) >= fixed[kind] else None
    if kind == 2:  # SetEncodings
        return 4 + 4 * struct.unpack(">H", buf[2:4])[0] if len(buf) >= 4 else None
    if kind == CUT_TEXT:
        if len(buf) < 8:
            return None
        length = abs(struct.unpack(">i", buf[4:8])[0])  # negative: the extended clipboard format
        if length > MAX_CUT_TEXT:
            raise RFBError("The clipboard text sent was larger than 1 MiB; the console was closed.")
        return 8 + length
    if kind == 248:  # ClientFence
        return 9 + buf[8] if len(buf) >= 9 else None
    if kind == 251:  # SetDesktopSize
        return 8 + 16 * buf[6] if len(buf) >= 8 else None
    if kind == QEMU:
        if len(buf) < 2:
            return None
        if buf[1] == 0:  # extended key event
            return 12
        if buf[1] == 1:  # audio: enable, disable, or set format
            if len(buf) < 4:
                return None
            return 10 if struct.unpack(">H", buf[2:4])[0] == 2 else 4
    raise RFBError(f"The browser sent a message kvmweb does not know (type {kind}); the console was closed.")


def is_input(message):
    return message[0] in INPUT or (message[0] == QEMU and message[1] == 0) or message[0] == 251


class ClientStream:
    """The browser's messages after the handshake. `feed(data)` returns the bytes to pass on to
    the VM's display: everything in order, or for a view-only session everything but input."""

    def __init__(self, *, view_only):
        self.view_only = view_only
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        out = []
        while self.buffer:
            size = _message_size(self.buffer)
            if size is None or len(self.buffer) < size:
                break
            message, self.buffer = self.buffer[:size], self.buffer[size:]
            if not (self.view_only and is_input(message)):
                out.append(message)
        if len(self.buffer) > MAX_CUT_TEXT + 16:
            raise RFBError("The browser sent more than the console accepts at once; the console was closed.")
        return b"".join(out)
