"""The live channel itself: an open page stays connected, and every operation reaches the panel.

These check what the other browser tests can only see indirectly: after a reconnect the page
re-fetches its partials ("kv:resync"), which would hide a dropped socket or a lost fragment for
as long as a test is willing to wait.
"""

import pytest
from playwright.sync_api import expect

from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]

RECORD_SOCKET = """() => {
  window.__wsLog = [];
  for (const name of ["htmx:wsOpen", "htmx:wsClose", "htmx:wsError"]) {
    document.addEventListener(name, (e) => {
      const code = e.detail && e.detail.event && e.detail.event.code;
      window.__wsLog.push(name + (code ? " " + code : "") + " @" + Math.round(performance.now()) + "ms");
    });
  }
}"""

RECORD_LOST_FRAGMENTS = """() => {
  window.__lost = [];
  document.body.addEventListener("htmx:oobErrorNoTarget", (e) => {
    // A real operation row (class "op") with nowhere to go; the empty "delete" placeholder
    // sent ahead of a new row has no target by design. (htmx strips hx-swap-oob before this.)
    const el = e.detail.content;
    if (el.classList && el.classList.contains("op")) window.__lost.push(el.id);
  });
}"""

IDLE_MS = 12_000  # more than twice any plausible idle timeout on the way (Redis reads, proxies)


def test_idle_page_keeps_its_live_socket(transactional_db, stack, demo_host, outsider, open_tab):
    # Someone granted nothing: their socket joins no group, so no event (from other tests on the
    # shared test driver, say) keeps it busy; it is as idle as a socket gets.
    tab = open_tab(outsider)
    page = tab.page
    tab.wait_live()
    page.evaluate(RECORD_SOCKET)

    # Watching for something that must NOT happen needs a window of time; nothing to poll for.
    page.wait_for_timeout(IDLE_MS)

    log = page.evaluate("window.__wsLog")
    assert log == [], f"the live socket of an idle page dropped and reconnected: {log}"
    expect(page.locator("#live-status")).to_have_text("live")


def test_every_operation_reaches_the_operations_panel(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    vm = new_vm(demo_host, start=True)

    tab = open_tab(operator)
    page = tab.page
    tab.wait_live()
    page.evaluate(RECORD_LOST_FRAGMENTS)
    row = page.locator(f"#vm-row-{vm.pk}")
    ops = page.locator("#ops-list li.op").filter(has_text=vm.name)

    for i, (button, state) in enumerate([("Pause", "paused"), ("Resume", "running")] * 10, start=1):
        row.get_by_role("button", name=button).click()
        expect(row).to_have_attribute("data-state", state)
        # The operation's "queued" fragment was published before its task was even sent, so it
        # reached this page before the VM's new state did: its row must be in the panel now.
        op = Operation.objects.filter(target_id=str(vm.pk)).latest("id")
        expect(page.locator(f"#op-{op.pk}"), f"operation {i} ({op.kind}) missing from the panel").to_have_count(
            1, timeout=2_000
        )

    expect(ops).to_have_count(20)
    expect(ops.locator(".op-status")).to_have_text(["succeeded"] * 20)
    assert page.evaluate("window.__lost") == []
    tab.assert_quiet()
