"""What the relay passes on from the browser: every message whole and in order; for a view-only
session no keys, pointer, clipboard or resize; and a session ends on what it cannot read."""

import struct

import pytest

from apps.consoles.rfb import MAX_CUT_TEXT, BrowserHandshake, ClientStream, RFBError

UPDATE = struct.pack(">BBHHHH", 3, 1, 0, 0, 640, 480)
KEY = struct.pack(">BBxxI", 4, 1, 0x61)
POINTER = struct.pack(">BBHH", 5, 1, 10, 10)
QEMU_KEY = struct.pack(">BBHII", 255, 0, 1, 0x61, 0x1E)
ENCODINGS = struct.pack(">BxH", 2, 2) + struct.pack(">ii", 0, -223)


def cut_text(text):
    return struct.pack(">BxxxI", 6, len(text)) + text


def test_messages_split_across_frames_pass_whole_and_in_order():
    stream = ClientStream(view_only=False)
    data = ENCODINGS + UPDATE + KEY + POINTER + QEMU_KEY + cut_text(b"hello")
    passed = b"".join(stream.feed(data[i : i + 3]) for i in range(0, len(data), 3))
    assert passed == data


def test_a_view_only_session_passes_no_input():
    stream = ClientStream(view_only=True)
    passed = stream.feed(ENCODINGS + KEY + UPDATE + POINTER + QEMU_KEY + cut_text(b"x") + UPDATE)
    assert passed == ENCODINGS + UPDATE + UPDATE


def test_an_unknown_message_ends_the_session():
    with pytest.raises(RFBError, match="type 77"):
        ClientStream(view_only=False).feed(bytes([77, 0, 0, 0]))


def test_an_oversized_clipboard_ends_the_session():
    with pytest.raises(RFBError, match="larger than 1 MiB"):
        ClientStream(view_only=False).feed(struct.pack(">BxxxI", 6, MAX_CUT_TEXT + 1))


def test_the_browser_handshake_offers_none_and_keeps_what_follows_client_init():
    handshake = BrowserHandshake()
    assert handshake.greeting() == b"RFB 003.008\n"
    assert handshake.feed(b"RFB 003.008\n") == (bytes([1, 1]), None, b"")
    reply, init, rest = handshake.feed(bytes([1, 0]) + UPDATE)
    assert (reply, init, rest) == (struct.pack(">I", 0), 1, UPDATE)  # shared, whatever was asked


def test_a_security_type_not_offered_is_refused():
    handshake = BrowserHandshake()
    handshake.feed(b"RFB 003.008\n")
    with pytest.raises(RFBError):
        handshake.feed(bytes([2]))
