"""A host added from its form in Chromium: the connection test's refusal on the form, then a
test-driver host that comes up on its page and follows libvirtd going away and back, live."""

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.hosts.models import Host
from tests.hosts.test_monitor import SocketProxy

pytestmark = [pytest.mark.browser]


def _add(page, name, uri):
    page.get_by_label("Name").fill(name)
    page.get_by_label("Connection").select_option("uri")
    page.get_by_label("URI", exact=True).fill(uri)
    page.get_by_role("button", name="Test and add").click()


def test_add_a_host_from_the_form_and_follow_it_live(transactional_db, stack, admin, open_tab, tmp_path):
    proxy = SocketProxy(str(tmp_path / "libvirt-sock"))
    proxy.start()
    tab = open_tab(admin)
    page = tab.page
    try:
        tab.nav("Hosts")
        page.get_by_role("link", name="Add host…").click()

        # libvirt's refusal arrives on the form; nothing is saved.
        _add(page, "broken", "test+unix:///nonexistent-file.xml")
        expect(page.locator(".host-form-error")).to_contain_text(
            "Could not connect: XML error: failed to parse xml document '/nonexistent-file.xml'", timeout=20_000
        )
        assert not Host.objects.filter(name="broken").exists()

        # A test-driver host behind its own socket: saved, and up on its page.
        _add(page, "lab", f"test+unix:///default?socket={proxy.path}")
        expect(page.get_by_role("heading", name="lab")).to_be_visible(timeout=20_000)
        tab.wait_live()
        expect(page.locator(".host-state")).to_have_text("up")
        expect(page.locator(".host-hypervisor")).to_contain_text("TEST")
        expect(page.locator("#host-networks #network-table")).to_contain_text("default")
        expect(page.locator("#numa-cells")).to_be_visible()

        # libvirtd goes away and comes back: the page follows without a reload.
        page.evaluate("window.__marker = 1")
        proxy.stop()
        expect(page.locator(".host-state")).to_have_text("down", timeout=15_000)
        expect(page.locator(".host-error")).to_be_visible()
        proxy.start()
        expect(page.locator(".host-state")).to_have_text("up", timeout=15_000)
        assert page.evaluate("window.__marker") == 1
        tab.assert_quiet()
    finally:
        if proxy.listener.fileno() != -1:
            proxy.stop()

    host = Host.objects.get(name="lab")
    outcomes = list(
        AuditEvent.objects.filter(action="host.create", actor=admin)
        .order_by("id")
        .values_list("target_name", "outcome")
    )
    assert outcomes == [("broken", "requested"), ("broken", "failed"), ("lab", "requested"), ("lab", "succeeded")]
    assert host.libvirt_version
