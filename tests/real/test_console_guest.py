"""The tiny console test guest (tests/consoles_guest.py) boots and its serial shell answers over
libvirt's console stream, as kvmweb's serial console relay will use it: under KVM where the host
boots it with KVM, and under TCG always."""

import threading

import pytest

from tests import consoles_guest
from tests.helpers import unique, wait_for

pytestmark = [pytest.mark.qemu]

# Only a shell that ran the line prints the sum: the typed line, echoed back as typed, holds $((6*7)).
COMMAND = b"echo kvmweb-console-$((6*7))-check\n"
ANSWER = "kvmweb-console-42-check"


@pytest.fixture(params=["kvm", "qemu"], ids=["kvm", "tcg"])
def guest(request, qemu_conn):
    """The guest, started and booted to its shells: (name, uuid)."""
    if request.param == "kvm" and consoles_guest.guest_virt_type(qemu_conn) != "kvm":
        pytest.skip("this host's KVM cannot boot the guest; the TCG run covers it")
    name = unique("kvmweb-console")
    dom_uuid = consoles_guest.define_console_domain(qemu_conn, name, domain_type=request.param)
    try:
        consoles_guest.wait_for_serial(name, consoles_guest.READY)
        yield name, dom_uuid
    finally:
        consoles_guest.undefine(qemu_conn, dom_uuid)


class ConsoleReader(threading.Thread):
    """Reads a blocking console stream until it ends (the domain stops or the stream is aborted)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.received = stream, b""

    def run(self):
        try:
            while chunk := self.stream.recv(4096):
                self.received += chunk
        except Exception:  # noqa: BLE001 - the stream ends with an error when it is aborted
            pass

    def text(self):
        return self.received.decode(errors="replace")


def test_the_serial_shell_runs_what_is_typed_on_the_console(qemu_conn, guest):
    name, dom_uuid = guest
    log = consoles_guest.serial_log(name)
    assert "Linux version" in log, "kernel messages reach the serial port"

    stream = qemu_conn.newStream(0)
    qemu_conn.lookupByUUIDString(dom_uuid).openConsole(None, stream, 0)
    reader = ConsoleReader(stream)
    reader.start()
    try:
        stream.send(COMMAND)
        wait_for(lambda: ANSWER in reader.text(), timeout=30, message="the shell's answer on the console stream")
    finally:
        stream.abort()
    assert "$((6*7))" in reader.text(), "the shell echoes what is typed"
    # virtlogd writes the log apart from the stream, so it may show the answer a moment later.
    consoles_guest.wait_for_serial(name, ANSWER, timeout=10)


# Linux key codes (libvirt's codeset 0, VIR_KEYCODE_SET_LINUX) for what the test types on the VGA
# console's keyboard; a shifted character is its key with left Shift (42) held.
KEYS = {" ": 57, "-": 12, ".": 52, "/": 53, "0": 11, "\n": 28}
KEYS.update(zip("qwertyuiop", range(16, 26), strict=True))
KEYS.update(zip("asdfghjkl", range(30, 39), strict=True))
KEYS.update(zip("zxcvbnm", range(44, 51), strict=True))
SHIFTED = {">": "."}
CTRL_ALT_DEL = [29, 56, 111]


def type_text(dom, text):
    for char in text:
        if char.isupper() or char in SHIFTED:
            keys = [42, KEYS[SHIFTED.get(char, char.lower())]]
        else:
            keys = [KEYS[char]]
        dom.sendKey(0, 30, keys, len(keys), 0)


def test_the_graphical_console_shell_and_ctrl_alt_del_speak_on_the_serial_port(qemu_conn, guest):
    name, dom_uuid = guest
    dom = qemu_conn.lookupByUUIDString(dom_uuid)
    # Typed on tty1's keyboard, the word reaches ttyS0 only through a shell that ran the line (what
    # is typed echoes on tty1, not here). It may follow the serial shell's prompt on one line.
    type_text(dom, "echo kvmweb-vga-check > /dev/ttyS0\n")
    consoles_guest.wait_for_serial(name, "kvmweb-vga-check", timeout=30)

    dom.sendKey(0, 30, CTRL_ALT_DEL, len(CTRL_ALT_DEL), 0)
    consoles_guest.wait_for_serial(name, consoles_guest.CTRL_ALT_DEL, timeout=30)
    assert dom.isActive(), "Ctrl+Alt+Del does not reboot or stop the guest"
    assert consoles_guest.serial_log(name).count("Linux version") == 1, "the guest did not reboot"
