"""The Content-Security-Policy (django-csp, settings' security section) in Chromium: the pages run
under it without a single violation and keep their live socket, what used to be inline handlers
and evaluated htmx attributes works from static/js/behaviours.js, and an injected inline handler
is refused and reported (so these checks would see a violation if a page caused one)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Team
from apps.storage.models import StoragePool
from tests.helpers import wait_for

pytestmark = [pytest.mark.browser]

# Every violation the page sees, kept on the page (read before leaving it); Chromium also logs
# each one to the console, which the tab's console listener collects across navigations.
WATCH = """
window.kvViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.kvViolations.push(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}: ${e.sample}`);
});
"""
VM_TABS = ("overview", "disks", "nics", "snapshots", "console", "serial", "settings", "xml", "process")


def _watched(open_tab, user):
    tab = open_tab()
    tab.console = []
    tab.page.context.add_init_script(WATCH)
    tab.page.on("console", lambda m: "Content Security Policy" in m.text and tab.console.append(m.text))
    tab.login(user)
    return tab


def _settled(tab):
    """The page's own requests are done: the socket is open and the re-reads it asked for
    (kv:resync) have landed; then nothing a page does at load is still to come."""
    tab.wait_live()
    tab.page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _violations(tab):
    return tab.page.evaluate("window.kvViolations") + tab.console


def test_the_pages_run_under_the_policy_with_their_live_socket(
    transactional_db, stack, demo_host, admin, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)
    pool = wait_for(lambda: StoragePool.objects.filter(host=demo_host).first(), message="the monitor to list a pool")
    team = Team.objects.create(name="csp-team")
    tab = _watched(open_tab, admin)
    page = tab.page

    response = page.goto(stack.url + reverse("compute:vm_list"))
    policy = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in policy

    pages = [
        reverse("compute:vm_list"),
        reverse("hosts:host_list"),
        reverse("hosts:host_detail", args=[demo_host.pk]),
        *(reverse("compute:vm_detail", args=[vm.pk]) + f"?tab={name}" for name in VM_TABS),
        reverse("compute:vm_create"),
        reverse("compute:vm_define_xml"),
        reverse("compute:vm_clone", args=[vm.pk]),
        reverse("storage:pool_list"),
        reverse("storage:pool_detail", args=[pool.pk]),
        reverse("storage:pool_new"),
        reverse("storage:secret_list"),
        reverse("audit:event_list"),
        reverse("accounts:user_list"),
        reverse("accounts:user_detail", args=[admin.pk]),
        reverse("accounts:team_list"),
        reverse("accounts:team_detail", args=[team.pk]),
        reverse("accounts:role_list"),
        reverse("accounts:me"),
        reverse("security:index"),
        reverse("security:setup"),
    ]
    for path in pages:
        tab.goto(path)
        _settled(tab)
        assert _violations(tab) == [], f"{path}: {_violations(tab)}"
    tab.assert_quiet()


def test_former_inline_behaviours_work_from_the_static_file(
    transactional_db, stack, demo_host, admin, open_tab, new_vm
):
    vm = new_vm(demo_host)
    team = Team.objects.create(name="csp-doomed")
    tab = _watched(open_tab, admin)
    page = tab.page

    # The audit filters leave empty fields out of the URL they push (was hx-on::config-request).
    tab.goto(reverse("audit:event_list"))
    _settled(tab)
    page.get_by_label("Search").fill("alice")
    expect(page).to_have_url(re.compile(r"/audit/\?q=alice$"))

    # The secrets' host filter applies when chosen (was onchange=).
    tab.goto(reverse("storage:secret_list"))
    page.get_by_label("host", exact=True).select_option(label=demo_host.name)
    expect(page).to_have_url(re.compile(rf"\?host={demo_host.pk}$"))

    # Deleting a team asks first, in the page (was onsubmit= with the browser's confirm());
    # cancelled, nothing is deleted.
    tab.goto(reverse("accounts:team_detail", args=[team.pk]))
    page.get_by_role("button", name="Delete team").click()
    confirm = page.locator("#kv-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator("#kv-confirm-text")).to_have_text("Delete team csp-doomed? Its grants go with it.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("heading", name="Team csp-doomed")).to_be_visible()
    assert Team.objects.filter(pk=team.pk).exists()

    # The bulk result closes with its button (was onclick=).
    tab.nav("Virtual machines")
    _settled(tab)
    page.get_by_label(f"select {vm.name}").check()
    page.locator("#bulk-form").get_by_role("button", name="Start").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Start queued for 1 VM")
    page.locator("#bulk-summary").get_by_role("button", name="Close").click()
    expect(page.locator("#bulk-summary")).to_have_count(0)

    # The XML tab re-reads itself once its save operation has finished (was a trigger filter). A
    # refused edit leaves the VM as it was, so nothing else re-reads the tab: the refusal shows
    # only through that re-read.
    tab.goto(reverse("compute:vm_detail", args=[vm.pk]) + "?tab=xml")
    _settled(tab)
    textarea = page.locator("#xml-text")
    textarea.fill(textarea.input_value().replace("bus='virtio'", "bus='bogus'"))
    page.get_by_role("button", name="Validate and save").click()
    expect(page.locator(".xml-refused")).to_contain_text("libvirt refused the definition")

    assert _violations(tab) == []
    tab.assert_quiet()


def test_an_injected_inline_handler_is_refused_and_reported(transactional_db, stack, admin, open_tab):
    tab = _watched(open_tab, admin)
    page = tab.page
    _settled(tab)
    tab.expect_console("Content Security Policy")  # the violation this test provokes
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """document.body.insertAdjacentHTML("beforeend",
               '<img src="/static/css/kvmweb.css" onerror="window.kvRan = true">')"""
        )
    page.wait_for_function("() => window.kvViolations.length > 0")
    assert page.evaluate("window.kvRan") is None
    assert any("script-src-attr" in v for v in page.evaluate("window.kvViolations"))
