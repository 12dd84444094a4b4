"""The task center in Chromium against the real stack: an operation asked for elsewhere appears at
the top and its row follows it to its end without a reload; the person who asked gets a toast,
and a failure stays counted beside "Operations" until they open it; Cancel stops a queued one."""

import threading

import pytest
from playwright.sync_api import expect

from apps.compute.services import vm_power
from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]


def _elsewhere(change):
    """Run a service in another thread: Playwright's sync API holds an event loop in this one,
    where publishing to the channel layer (async_to_sync) cannot run."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=change()))
    thread.start()
    thread.join(timeout=10)
    return result["value"]


def test_the_task_center_follows_operations_to_their_end(
    transactional_db, stack, demo_host, operator, admin, new_vm, open_tab
):
    vm = new_vm(demo_host)
    # Queued, and no task was sent for it: it waits until someone cancels it.
    waiting = Operation.objects.create(
        kind="vm.reboot",
        actor=admin,
        actor_name=admin.username,
        target_type="vm",
        target_id=str(vm.pk),
        target_name=vm.name,
        host_id=demo_host.pk,
        host_name=demo_host.name,
    )
    tab = open_tab(operator)
    page = tab.page
    tab.goto("/operations/")
    expect(page.locator("main h1")).to_have_text("Operations")
    tab.wait_live()
    expect(page.locator(f"#tc-op-{waiting.pk} .tc-status")).to_have_text("queued")

    # Started elsewhere (another tab, the API): it appears at the top and runs to its end.
    started = _elsewhere(lambda: vm_power(actor=operator, vm=vm, action="start"))
    row = page.locator(f"#tc-op-{started.pk}")
    expect(row.locator(".tc-status")).to_have_text("succeeded")
    expect(page.locator("#tc-rows tr").first).to_have_id(f"tc-op-{started.pk}")
    expect(row.locator(".tc-kind")).to_have_text("Start")
    expect(row.locator(".tc-target")).to_have_text(vm.name)
    expect(page.locator(f"#toast-op-{started.pk}")).to_contain_text("succeeded.")

    # Started again, it fails (already running): the row says why, and the failure stays marked.
    again = _elsewhere(lambda: vm_power(actor=operator, vm=vm, action="start"))
    expect(page.locator(f"#tc-op-{again.pk} .tc-status")).to_have_text("failed")
    expect(page.locator(f"#tc-op-{again.pk} .tc-error")).not_to_be_empty()
    failure_toast = page.locator(f"#toast-op-{again.pk}")
    expect(failure_toast).to_contain_text("failed.")
    expect(page.locator("#ops-heading .ops-unseen")).to_have_text("1 failed, not seen yet")

    # Cancel the queued one: its row ends "cancelled" in place.
    waiting_row = page.locator(f"#tc-op-{waiting.pk}")
    waiting_row.get_by_role("button", name=f"Cancel Reboot {vm.name}").click()
    expect(waiting_row.locator(".tc-status")).to_have_text("cancelled")
    expect(waiting_row.get_by_role("button")).to_have_count(0)
    expect(page.locator(f"#toast-op-{waiting.pk}")).to_have_count(0)  # admin asked for it, not this user

    # The success toast left by itself; the failure's stays until it is followed or closed.
    expect(page.locator(f"#toast-op-{started.pk}")).to_have_count(0, timeout=15_000)
    failure_toast.get_by_role("link").click()
    expect(page.locator("#op-detail-status")).to_have_text("failed")
    expect(page.locator("#op-steps .op-step-text").first).to_contain_text("Started on ")
    expect(page.locator("#op-steps .op-step-text").last).to_contain_text("Failed: ")
    expect(page.locator("#op-audit tbody tr")).to_have_count(2)
    expect(page.locator("#ops-heading .ops-unseen")).to_have_text("")  # seen now
    tab.assert_quiet()
