"""The consoles in Chromium against a tiny real QEMU guest (tests/consoles_guest.py: a kernel and
a busybox shell on tty1, which VNC shows, and on ttyS0, the serial console), through the real
stack's relay. What reaches the guest is read from its serial log, written by QEMU beside the
console under test: keys typed into the screen, text pasted as keystrokes and Ctrl+Alt+Del all
run in the guest, which says so on its serial port.
"""

import threading

import pytest
from playwright.sync_api import expect

from apps.accounts.services import grant_add, grant_remove, user_create
from apps.compute.models import VirtualMachine
from apps.hosts.services import host_create
from tests.conftest import PASSWORD
from tests.consoles_guest import CTRL_ALT_DEL, READY, define_console_domain, undefine, wait_for_serial
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def guest(stack, qemu_conn):
    """The guest, booted and ready on host "local" (qemu:///system), once the monitor lists it
    running."""
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    name = unique("kvmweb-console")
    dom_uuid = define_console_domain(qemu_conn, name)
    try:
        wait_for_serial(name, READY)
        vm = wait_for(
            lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid, state="running").first(),
            timeout=30,
            message=f"the monitor to list {name} running",
        )
        yield vm
    finally:
        undefine(qemu_conn, dom_uuid)


@pytest.fixture
def olive(guest):
    """A second person who may use this VM's consoles."""
    user, _ = user_create(actor=None, username=unique("olive"), password=PASSWORD)
    grant_add(actor=None, user=user, role="VM user", scope=guest)
    return user


@pytest.fixture
def rita(guest):
    """Someone who sees every VM and may use this one's consoles (the grant the test revokes)."""
    user, _ = user_create(actor=None, username=unique("rita"), password=PASSWORD)
    grant_add(actor=None, user=user, role="Viewer")
    return user, grant_add(actor=None, user=user, role="VM user", scope=guest)


def _in_thread(fn):
    """Run a service that publishes live (async_to_sync) beside Playwright's running loop."""
    worker = threading.Thread(target=fn)
    worker.start()
    worker.join()


def open_console(tab, vm, key):
    """The VM page's Console ("console") or Serial ("serial") tab, once its console is connected."""
    tab.goto(f"/vms/{vm.pk}/?tab={key}")
    tab.wait_live()
    console = tab.page.locator(f'#vm-tab-{vm.pk}[data-tab="{key}"] .kv-console')
    expect(console.locator(".console-status")).to_have_text("Connected", timeout=20_000)
    return console


# The US keys under the characters typed with Shift: Playwright's keyboard.type() sends "$" as
# the key Digit4 without pressing Shift, which a guest reading scan codes takes for "4"; a person
# holds Shift, and so does type_keys.
SHIFTED = dict(zip('~!@#$%^&*()_+{}|:"<>?', [
    "Backquote", "Digit1", "Digit2", "Digit3", "Digit4", "Digit5", "Digit6", "Digit7", "Digit8", "Digit9",
    "Digit0", "Minus", "Equal", "BracketLeft", "BracketRight", "Backslash", "Semicolon", "Quote", "Comma",
    "Period", "Slash",
], strict=True))  # fmt: skip


def type_keys(page, text):
    """Type on the page's keyboard as a person at a US keyboard would."""
    for ch in text:
        if ch == "\n":
            page.keyboard.press("Enter")
        elif ch in SHIFTED:
            page.keyboard.press("Shift+" + SHIFTED[ch])
        elif ch.isupper():
            page.keyboard.press("Shift+Key" + ch)
        else:
            page.keyboard.press(ch)


CANVAS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 16) colours.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
  return {colours: colours.size, url: canvas.toDataURL()};
}"""


def test_the_screen_paints_and_takes_keys_paste_and_ctrl_alt_del(guest, operator, open_tab):
    tab = open_tab(operator)
    page = tab.page
    console = open_console(tab, guest, "console")
    canvas = console.locator(".console-screen canvas")
    # The guest's text console: more than one colour on the screen (text on a background).
    wait_for(lambda: canvas.evaluate(CANVAS)["colours"] > 1, timeout=20, message="the screen to paint")
    before = canvas.evaluate(CANVAS)["url"]

    # Typed on the page's keyboard: the shell on tty1 runs it, and the screen changes.
    canvas.click()
    type_keys(page, "echo typed-$((6*7)) >/dev/ttyS0\n")
    wait_for_serial(guest.name, "typed-42")
    wait_for(lambda: canvas.evaluate(CANVAS)["url"] != before, timeout=10, message="the screen to change")

    # Pasted as keystrokes, with the characters that need Shift on a US keyboard.
    console.get_by_text("Paste as keystrokes").click()
    console.get_by_label("Text to type into the guest").fill('echo "pasted: A@{}~|!" >/dev/ttyS0\n')
    console.get_by_label("Guest keyboard layout").select_option("en-us")
    console.get_by_role("button", name="Type it").click()
    expect(console.locator(".console-paste-note")).to_have_text("Typed 35 of 35 keys.")
    wait_for_serial(guest.name, "pasted: A@{}~|!")

    # A character the layout has no key for is named, and nothing is typed.
    console.get_by_label("Text to type into the guest").fill("grüß")
    console.get_by_role("button", name="Type it").click()
    expect(console.locator(".console-paste-note")).to_have_text(
        "The en-us layout has no key for: ü ß — nothing was typed."
    )

    console.get_by_text("Send keys").click()
    console.get_by_role("button", name="Ctrl+Alt+Del").click()
    wait_for_serial(guest.name, CTRL_ALT_DEL)
    tab.assert_quiet()


def test_the_serial_console_shows_output_and_takes_input(guest, operator, open_tab):
    tab = open_tab(operator)
    console = open_console(tab, guest, "serial")
    console.locator(".xterm").click()
    type_keys(tab.page, "echo serial-$((6*7))\n")
    expect(console.locator(".xterm-rows")).to_contain_text("serial-42")
    # Connected now: the operator's own serial console.
    expect(tab.page.locator(f"#console-sessions-{guest.pk} .console-session")).to_contain_text("serial")
    tab.assert_quiet()


def test_two_people_s_serial_sessions_do_not_see_each_other(guest, operator, olive, open_tab):
    other = olive
    first = open_tab(operator)
    mine = open_console(first, guest, "serial")
    mine.locator(".xterm").click()
    type_keys(first.page, "echo first-$((2+3))\n")
    expect(mine.locator(".xterm-rows")).to_contain_text("first-5")

    # The second person finds it held, and takes it over only after a confirmation naming who.
    second = open_tab(other)
    second.goto(f"/vms/{guest.pk}/?tab=serial")
    theirs = second.page.locator(f'#vm-tab-{guest.pk}[data-tab="serial"] .kv-console')
    expect(theirs.locator(".console-held")).to_contain_text(f"held by {operator.username}")
    second.accept_confirms = True
    theirs.get_by_role("button", name="Take over").click()
    expect(theirs.locator(".console-status")).to_have_text("Connected")
    assert second.confirms and operator.username in second.confirms[0]
    expect(mine.locator(".console-status")).to_have_text(f"Disconnected: Taken over by {other.username}.")

    theirs.locator(".xterm").click()
    type_keys(second.page, "echo second-$((3+4))\n")
    expect(theirs.locator(".xterm-rows")).to_contain_text("second-7")
    # Neither saw the other's typing or its answer.
    assert "first" not in theirs.locator(".xterm-rows").inner_text()
    assert "second" not in mine.locator(".xterm-rows").inner_text()
    first.assert_quiet()
    second.assert_quiet()


def test_a_revoked_right_or_an_administrator_closes_an_open_console(guest, admin, rita, open_tab):
    user, grant = rita
    tab = open_tab(user)
    console = open_console(tab, guest, "console")

    # An administrator sees it connected now, and closes it.
    boss = open_tab(admin)
    boss.goto(f"/vms/{guest.pk}/?tab=console")
    boss.wait_live()
    row = boss.page.locator(f"#console-sessions-{guest.pk} .console-session").filter(has_text=user.username)
    boss.accept_confirms = True
    row.get_by_role("button", name="Close").click()
    expect(row).to_have_count(0)  # (acting on the page answers its confirmation, see open_tab)
    expect(console.locator(".console-status")).to_have_text(f"Disconnected: Closed by {admin.username}.")
    assert boss.confirms and user.username in boss.confirms[0]

    # Reconnected, then the right is revoked (the VM stays in sight): the console closes within
    # two seconds, saying why.
    console.locator(".console-reconnect").click()
    console = tab.page.locator(f'#vm-tab-{guest.pk}[data-tab="console"] .kv-console')
    expect(console.locator(".console-status")).to_have_text("Connected")
    _in_thread(lambda: grant_remove(actor=None, grant=grant))
    expect(console.locator(".console-status")).to_have_text(
        "Disconnected: Your right to this console was revoked.", timeout=2_000
    )
    tab.assert_quiet()
    boss.assert_quiet()
