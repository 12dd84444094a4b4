"""Power actions from the browser: the click queues an Operation, a real worker acts on libvirt,
and the page follows over the WebSocket without reloading."""

import re

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
    tab.nav("Virtual machines")
    tab.wait_live()

    row = page.locator(f"#vm-row-{vm.pk}")
    expect(row.get_by_role("link", name=vm.name)).to_be_visible()
    expect(row.locator(".vm-state")).to_have_text("shut off")

    _mark(page)
    try:
        row.get_by_role("button", name="Start").click()

        expect(row.locator(".vm-state")).to_have_text("running")
        expect(row.get_by_role("button", name="Shut down")).to_be_visible()
        expect(row.get_by_role("button", name="Start")).to_have_count(0)

        op_items = page.locator('#ops-list li.op[data-kind="vm.start"]').filter(has_text=vm.name)
        expect(op_items).to_have_count(1)
        expect(op_items.locator(".op-status")).to_have_text("succeeded")
        expect(op_items).to_contain_text(operator.get_username())
    finally:
        # For people, not asserted: how the list looked after the live updates (or when they failed).
        page.screenshot(path=SCREENSHOT)
    assert _still_marked(page), "the VM list reloaded; it should have been updated in place"
    tab.assert_quiet()
    assert Operation.objects.get(kind="vm.start", target_id=str(vm.pk)).status == "succeeded"

    # One line for the action: the request and how it ended.
    tab.nav("Audit log")
    row = page.locator("tr.audit-row[data-action='vm.start']").filter(has_text=vm.name)
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-outcome", "succeeded")
    cells = tab.audit_cells(row)
    expect(cells["User"]).to_contain_text(operator.get_username())
    expect(cells["Action"]).to_contain_text("vm.start")
    expect(cells["Target"]).to_contain_text(f"vm {vm.name}")
    expect(cells["Outcome"]).to_contain_text("succeeded")
    expect(cells["Outcome"]).to_contain_text(re.compile(r"after \d+ s"))


def test_pause_is_seen_live_by_operator_and_viewer(
    transactional_db, stack, demo_host, operator, viewer, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)

    op_tab = open_tab(operator)
    view_tab = open_tab(viewer)
    op_summary = op_tab.page.locator(f"#vm-summary-{vm.pk}")
    view_summary = view_tab.page.locator(f"#vm-summary-{vm.pk}")
    for tab, summary in ((op_tab, op_summary), (view_tab, view_summary)):
        tab.goto(f"/vms/{vm.pk}/")
        expect(summary.get_by_role("heading", name=vm.name)).to_be_visible()
        expect(summary.locator(".vm-state")).to_have_text("running")
        tab.wait_live()
        _mark(tab.page)

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
        tab.assert_quiet()
