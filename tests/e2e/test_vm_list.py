"""The VM list as a person uses it: narrow it down, select some VMs, start them in one go, and
read which ones started and which were refused and why; rows follow live."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]


def test_filter_select_and_start_many(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    stopped = [new_vm(demo_host) for _ in range(3)]
    running = new_vm(demo_host, start=True)
    tab = open_tab(operator)
    page = tab.page
    tab.nav("Virtual machines")
    tab.wait_live()

    # Narrow the list to one VM by name, then clear the filter: the table follows without a reload.
    page.evaluate("window.__marker = 1")
    page.get_by_label("Name").fill(stopped[0].name)
    expect(page.locator("#vm-rows tr[id]")).to_have_count(1)
    page.get_by_label("Name").fill("")
    expect(page.locator(f"#vm-row-{running.pk}")).to_be_visible()

    for vm in [*stopped, running]:
        page.get_by_label(f"select {vm.name}").check()
    page.locator("#bulk-form").get_by_role("button", name="Start").click()

    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("Start queued for 3 VMs, 1 refused")
    expect(summary).to_contain_text(f"{running.name}: it is running")
    # The selection is cleared once the action is sent, so the next one starts afresh.
    expect(page.locator("#bulk-count")).to_have_text("None selected")
    for vm in stopped:
        expect(page.locator(f"#vm-row-{vm.pk} .vm-state")).to_have_text("running", timeout=20_000)
        expect(page.get_by_label(f"select {vm.name}")).not_to_be_checked()
    assert page.evaluate("window.__marker") == 1, "the list reloaded; it should have been updated in place"
    tab.assert_quiet()
