"""The task center in Chromium with the real worker and QEMU: a clone's bar moves on and the row
ends at 100 % without a reload; another clone cancelled from its row while it copies ends
"cancelled", and nothing of it is left behind (no volume, no domain, no inventory row)."""

import threading

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.compute.services import clone as clone_services
from apps.compute.virt import domains
from apps.operations.models import Operation
from tests.helpers import unique
from tests.operations.test_cancel_real import (  # noqa: F401  (fixtures)
    GiB,
    assert_no_volume,
    dir_pool,
    domains_made,
    local,
    seen,
    sparse_source,
)

pytestmark = [pytest.mark.browser, pytest.mark.qemu]


def _elsewhere(change):
    """Run a service in another thread: Playwright's sync API holds an event loop in this one,
    where publishing to the channel layer (async_to_sync) cannot run."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=change()))
    thread.start()
    thread.join(timeout=30)
    return result["value"]


def test_a_clone_runs_to_100_percent_and_another_is_cancelled_from_its_row(
    transactional_db, qemu_conn, local, dir_pool, domains_made, operator, open_tab  # noqa: F811  (fixtures)
):
    source = sparse_source(qemu_conn, local, dir_pool, domains_made, size=GiB)
    tab = open_tab(operator)
    page = tab.page
    tab.goto("/operations/")
    tab.wait_live()

    # A clone followed to its end: the row appears, runs, and ends at 100 % in place.
    copy = unique("kvmweb-test")
    op = _elsewhere(lambda: clone_services.vm_clone(actor=operator, vm=source, name=copy))
    row = page.locator(f"#tc-op-{op.pk}")
    expect(row.locator(".tc-status")).to_have_text("succeeded", timeout=120_000)
    expect(row.locator(".tc-percent")).to_have_text("100%")
    domains_made.append(VirtualMachine.objects.get(host=local, name=copy).uuid.hex)

    # Another one cancelled from its row while it copies: it ends cancelled, leaving nothing.
    other = unique("kvmweb-test")
    big = sparse_source(qemu_conn, local, dir_pool, domains_made)
    op = _elsewhere(lambda: clone_services.vm_clone(actor=operator, vm=big, name=other))
    seen(op, lambda r: r.status == "running" and "copying vda" in r.message, "the copy to start")
    tab.accept_confirms = True
    page.locator(f"#tc-op-{op.pk}").get_by_role("button", name="Cancel").click()
    expect(page.locator(f"#tc-op-{op.pk} .tc-status")).to_have_text("cancelled", timeout=120_000)
    assert Operation.objects.get(pk=op.pk).status == "cancelled"
    assert_no_volume(qemu_conn, dir_pool, f"{other}-vda.img")
    assert not domains.name_taken(qemu_conn, other)
    assert not VirtualMachine.objects.filter(host=local, name=other).exists()
    tab.assert_quiet()
