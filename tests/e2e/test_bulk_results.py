"""Item 1 of issue 10, as an Operator: a bulk action says what it queued, then each VM's line
shows how its operation ended (linked to the VM and to the operation's record); the failed one
can be retried. The buttons wait for a selection, count it, and it is cleared once sent."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.hosts.services import host_create
from apps.operations.models import Operation
from tests.helpers import make_vm, unique

pytestmark = [pytest.mark.browser]


def test_bulk_shutdown_reports_each_vm_as_it_ends(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    a, b = new_vm(demo_host, start=True), new_vm(demo_host, start=True)
    # A host whose libvirtd is gone: its VM's operation fails on the worker, as a broken pipe would.
    gone = host_create(actor=None, name=unique("gone"), uri="test+unix:///default?socket=/nonexistent/libvirt-sock")
    c = make_vm(gone, start=True)
    tab = open_tab(operator)
    page = tab.page
    tab.wait_live()

    form = page.locator("#bulk-form")
    shut_down = form.get_by_role("button", name="Shut down")
    expect(page.locator("#bulk-count")).to_have_text("None selected")
    expect(shut_down).to_be_disabled()
    for vm in (a, b, c):
        page.locator(f"#vm-select-{vm.pk}").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    expect(shut_down).to_be_enabled()
    shut_down.click()

    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("Shut down queued for 3 VMs.")
    # The selection is cleared once the action is sent.
    expect(page.locator("#bulk-count")).to_have_text("None selected")
    expect(shut_down).to_be_disabled()
    for vm in (a, b, c):
        expect(page.locator(f"#vm-select-{vm.pk}")).not_to_be_checked()

    ops = {vm.pk: Operation.objects.get(kind="vm.shutdown", target_id=str(vm.pk)) for vm in (a, b, c)}
    for vm in (a, b):
        line = summary.locator(f"#op-line-{ops[vm.pk].pk}")
        expect(line.locator(".op-line-status")).to_have_text("succeeded", timeout=20_000)
        expect(line.get_by_role("link", name=vm.name)).to_have_attribute(
            "href", reverse("compute:vm_detail", args=[vm.pk])
        )
    failed = summary.locator(f"#op-line-{ops[c.pk].pk}")
    expect(failed.locator(".op-line-status")).to_have_text("failed", timeout=20_000)
    expect(failed.locator(".op-line-error")).to_contain_text("connect")
    expect(failed.locator(".op-line-status")).to_have_attribute(
        "href", reverse("operations:operation_detail", args=[ops[c.pk].pk])
    )

    # Retry failed queues the failed one again, and only it.
    summary.get_by_role("button", name="Retry failed").click()
    expect(summary).to_contain_text("Shut down queued for 1 VM.")
    retried = Operation.objects.filter(kind="vm.shutdown", target_id=str(c.pk)).exclude(pk=ops[c.pk].pk)
    expect(summary.locator(".op-line")).to_have_count(1)
    expect(summary.locator(".op-line .op-line-status")).to_have_text("failed", timeout=20_000)
    assert retried.count() == 1
    assert Operation.objects.filter(kind="vm.shutdown").count() == 4
    tab.assert_quiet()


def test_a_viewer_has_no_bulk_buttons(transactional_db, stack, demo_host, viewer, open_tab, new_vm):
    new_vm(demo_host)
    tab = open_tab(viewer)
    expect(tab.page.locator("#vm-rows tr[id]").first).to_be_visible()
    expect(tab.page.locator("#bulk-form")).to_have_count(0)
    tab.assert_quiet()
