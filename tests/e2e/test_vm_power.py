"""Power actions from the browser: the click queues an Operation, a real worker acts on libvirt,
and the page follows over the WebSocket without reloading."""

import pytest
from playwright.sync_api import expect

from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]

SCREENSHOT = "/tmp/kvmweb-vmlist.png"


def _mark(page):
    """A value that only survives while the page is not reloaded or navigated away from."""
    page.evaluate("window.__marker = 1")


def _still_marked(page):
    return page.evaluate("window.__marker") == 1


def test_start_from_vm_list_updates_row_and_operations_panel_live(
    transactional_db, stack, demo_host, operator, open_tab, new_vm
):
    vm = new_vm(demo_host)

    tab = open_tab()
    tab.login(operator)
    page = tab.page
    page.get_by_role("link", name="Virtual machines").click()
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    tab.wait_live()

    row = page.locator(f"#vm-row-{vm.pk}")
    expect(row.get_by_role("link", name=vm.name)).to_be_visible()
    expect(row.locator(".vm-state")).to_have_text("shut off")

    _mark(page)
    row.get_by_role("button", name="Start").click()

    expect(row.locator(".vm-state")).to_have_text("running")
    expect(row.get_by_role("button", name="Shut down")).to_be_visible()
    expect(row.get_by_role("button", name="Start")).to_have_count(0)

    op_items = page.locator("#ops-list li.op").filter(has_text="vm.start").filter(has_text=vm.name)
    expect(op_items).to_have_count(1)
    expect(op_items.locator(".op-status")).to_have_text("succeeded")
    expect(op_items).to_contain_text(operator.get_username())
    assert _still_marked(page), "the VM list reloaded; it should have been updated in place"
    assert tab.dialogs == [], f"unexpected alert: {tab.dialogs}"

    op = Operation.objects.get(kind="vm.start", target_id=str(vm.pk))
    assert op.status == "succeeded"

    page.screenshot(path=SCREENSHOT)

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.locator("tr.audit-row[data-action='vm.start']").filter(has_text=vm.name)
    expect(rows).to_have_count(2)
    for outcome in ("requested", "succeeded"):
        row = rows.filter(has=page.locator(".badge", has_text=outcome))
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_have_text(operator.get_username())
        expect(row.locator("td").nth(3)).to_have_text("vm.start")
        expect(row.locator("td").nth(4)).to_have_text(f"vm {vm.name}")


def test_pause_is_seen_live_by_operator_and_viewer(
    transactional_db, stack, demo_host, operator, viewer, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)

    op_tab = open_tab(operator)
    view_tab = open_tab(viewer)
    summaries = {}
    for tab in (op_tab, view_tab):
        tab.goto(f"/vms/{vm.pk}/")
        summary = tab.page.locator(f"#vm-summary-{vm.pk}")
        expect(summary.get_by_role("heading", name=vm.name)).to_be_visible()
        expect(summary.locator(".vm-state")).to_have_text("running")
        tab.wait_live()
        _mark(tab.page)
        summaries[tab.page] = summary

    op_summary = summaries[op_tab.page]
    view_summary = summaries[view_tab.page]
    expect(view_summary.get_by_role("button")).to_have_count(0)

    op_summary.get_by_role("button", name="Pause").click()

    expect(op_summary.locator(".vm-state")).to_have_text("paused")
    expect(view_summary.locator(".vm-state")).to_have_text("paused")
    expect(op_summary.get_by_role("button", name="Resume")).to_be_visible()
    expect(op_summary.get_by_role("button", name="Pause")).to_have_count(0)
    # The fragment pushed to the viewer is rendered for the viewer: still no power buttons.
    expect(view_summary.get_by_role("button")).to_have_count(0)

    for tab in (op_tab, view_tab):
        assert _still_marked(tab.page), "a detail page reloaded; it should have been updated in place"
        assert tab.dialogs == [], f"unexpected alert: {tab.dialogs}"
