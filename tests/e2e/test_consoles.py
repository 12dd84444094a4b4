"""The consoles in Chromium against the real stack, on the shared test driver (whose domains have
no display server to reach): the Console tab and the pop-out windows say why a console cannot
open, from the page or from the socket's close, and come back by themselves when the VM starts;
the keyboard layouts of "Paste as keystrokes" type with the guest's physical keys.

tests/e2e/test_consoles_real.py does the same against a tiny real QEMU guest that answers."""

import mimetypes
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.compute.virt.xml import Domain
from apps.compute.virt.xml.devices import Graphics
from apps.hosts.virt import connection
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import TEST_URI, created_domains, unique, wait_for

pytestmark = [pytest.mark.browser]

STATIC = Path(__file__).resolve().parents[2] / "static"


def console_vm(host, *, start=True, serial=True):
    """A test-driver domain with a VNC display (on a port where nothing listens) and a serial
    console, once the monitor has listed it: the path a real VM takes."""
    spec = Domain(
        unique("console"),
        memory_mib=64,
        domain_type="test",
        uuid=str(uuid.uuid4()),
        graphics=[Graphics("vnc", port=5991)],
        serial_console=serial,
    )
    conn = connection.get(TEST_URI)
    dom_uuid = domains.define(conn, spec.to_xml())
    created_domains.append(dom_uuid)
    if start:
        domains.power(conn, dom_uuid, "start")
    state = "running" if start else "shutoff"
    return wait_for(
        lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid, present=True, state=state).first(),
        timeout=10,
        message=f"the monitor to list {spec.name} as {state}",
    )


def test_the_console_tab_says_why_the_display_cannot_be_reached(transactional_db, stack, demo_host, operator, open_tab):
    vm = console_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/")
    tab.wait_live()
    page.locator('#vm-tabs a[data-tab="console"]').click()
    console = page.locator(f'#vm-tab-{vm.pk}[data-tab="console"] .kv-console')
    # The socket opened, the relay could not reach the display, and the close says so.
    expect(console.locator(".console-status")).to_contain_text(
        "Disconnected: The display listens on its host only"
    )
    expect(console.locator(".console-reconnect")).to_be_visible()
    # Nobody is connected now: the refused console left no session behind.
    expect(page.locator(f"#console-sessions-{vm.pk}")).to_contain_text(f"Nobody has a console of {vm.name} open")
    tab.assert_quiet()


def test_a_stopped_vm_s_console_opens_once_it_runs(transactional_db, stack, demo_host, operator, open_tab):
    vm = console_vm(demo_host, start=False)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/?tab=console")
    tab.wait_live()
    section = page.locator(f'#vm-tab-{vm.pk}[data-tab="console"]')
    expect(section.locator(".console-reason")).to_have_text(
        f"{vm.name} is not running (shut off): start it to use its console."
    )
    page.locator(f"#vm-summary-{vm.pk}").get_by_role("button", name="Start").click()
    # The VM's change re-reads the tab (no console was open in it), which now tries the display.
    expect(section.locator(".kv-console .console-status")).to_contain_text(
        "Disconnected: The display listens on its host only"
    )
    tab.assert_quiet()


def test_the_pop_out_windows_stand_alone(transactional_db, stack, demo_host, operator, open_tab):
    vm = console_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/console/window/")
    expect(page).to_have_title(f"{vm.name} · console · kvmweb")
    expect(page.locator(".console-status")).to_contain_text(
        "Disconnected: The display listens on its host only"
    )
    expect(page.get_by_role("button", name="Shut down")).to_be_visible()

    # The serial console attaches through libvirt, which the test driver cannot do: it says so,
    # in a page whose policy lets xterm.js style its terminal (a violation would log an error).
    tab.goto(f"/vms/{vm.pk}/serial/window/")
    expect(page).to_have_title(f"{vm.name} · serial console · kvmweb")
    expect(page.locator(".xterm")).to_be_visible()
    expect(page.locator(".console-status")).to_contain_text("Disconnected: ")
    tab.assert_quiet()


def test_paste_as_keystrokes_presses_the_guest_layout_s_keys():
    """static/js/consoles/keymaps.js, imported on its own in Chromium."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page()

        def serve(route):
            path = STATIC / route.request.url.split("/static/", 1)[1]
            route.fulfill(body=path.read_bytes(), content_type=mimetypes.guess_type(path.name)[0] or "text/plain")

        page.route("http://kvmweb.test/static/**", serve)
        page.route(
            "http://kvmweb.test/",
            lambda route: route.fulfill(body="<!doctype html><title>keymaps</title>", content_type="text/html"),
        )
        page.goto("http://kvmweb.test/")
        got = page.evaluate(
            """async () => {
              const k = await import("/static/js/consoles/keymaps.js");
              const one = (text, layout) => k.keystrokes(text, layout)[0];
              let refused = null;
              try { k.keystrokes("a€", "en-us"); } catch (e) { refused = e.chars; }
              return {
                deZ: one("z", "de"), deY: one("y", "de"), deAt: one("@", "de"), usAt: one("@", "en-us"),
                deCaret: k.keystrokes("^", "de"), newline: k.keystrokes("a\\r\\nb", "en-us").map((s) => s.code),
                missing: k.untypable("Grüße, €!", "en-us"), deMissing: k.untypable("Grüße, €!", "de"),
                refused, events: k.keyEvents(one("@", "de")),
              };
            }"""
        )
        chromium.close()
    assert got["deZ"] == {"keysym": ord("z"), "code": "KeyY", "shift": False, "altgr": False}
    assert got["deY"]["code"] == "KeyZ"
    assert got["deAt"] == {"keysym": ord("@"), "code": "KeyQ", "shift": False, "altgr": True}
    assert got["usAt"] == {"keysym": ord("@"), "code": "Digit2", "shift": True, "altgr": False}
    # ^ is a dead key in German: pressed alone it waits, so a Space follows to type it.
    assert [s["code"] for s in got["deCaret"]] == ["Backquote", "Space"]
    assert got["newline"] == ["KeyA", "Enter", "KeyB"]
    # What a layout cannot type is named, not dropped.
    assert got["missing"] == ["ü", "ß", "€"] and got["deMissing"] == []
    assert got["refused"] == ["€"]
    # AltGr is held around the key: down, key down, key up, up.
    assert got["events"] == [
        [0xFE03, "AltRight", True],
        [64, "KeyQ", True],
        [64, "KeyQ", False],
        [0xFE03, "AltRight", False],
    ]
