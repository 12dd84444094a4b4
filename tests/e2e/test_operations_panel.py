"""Item 7 of issue 10, as an Operator: the operations panel reads in plain words, links each
entry to its target and its record, filters to mine / failed, can be hidden (remembered), and a
long name wraps instead of widening the page at 1,400 px."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.compute.services import vm_power
from apps.operations.models import Operation
from tests.helpers import define_test_domain, unique, wait_for

pytestmark = [pytest.mark.browser]


def test_panel_labels_links_filters_and_hiding(transactional_db, stack, demo_host, operator, admin, open_tab):
    name = unique("a-very-long-virtual-machine-name-") + "-that-goes-on-" * 6
    uuid = define_test_domain(name)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=demo_host, uuid=uuid).first(), message="the long VM")
    mine = vm_power(actor=operator, vm=vm, action="start")
    theirs = vm_power(actor=admin, vm=vm, action="reboot")
    wait_for(lambda: not Operation.objects.filter(status__in=["queued", "running"]).exists(), timeout=20)
    Operation.objects.filter(pk=theirs.pk).update(status="failed", error="Cannot write data: Broken pipe")

    tab = open_tab(operator)
    page = tab.page
    tab.wait_live()
    panel = page.locator("#ops-list")
    entry = panel.locator(f"#op-{mine.pk}")
    expect(entry.locator(".op-label")).to_have_text("Start")
    expect(panel).not_to_contain_text("vm.start")
    expect(entry.locator(".op-label")).to_have_attribute("href", reverse("operations:operation_detail", args=[mine.pk]))
    expect(entry.get_by_role("link", name=vm.name)).to_have_attribute(
        "href", reverse("compute:vm_detail", args=[vm.pk])
    )

    # The long name wraps: nothing scrolls sideways at 1,400 px.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1400, f"the VM list is {width} px wide"

    # Filters, remembered after a reload.
    page.locator("label[for=ops-filter-failed]").click()
    expect(panel.locator(f"#op-{theirs.pk}")).to_be_visible()
    expect(panel.locator(f"#op-{mine.pk}")).to_have_count(0)
    page.reload()
    expect(page.locator("#ops-filter-failed")).to_be_checked()
    expect(panel.locator(f"#op-{theirs.pk} .op-error")).to_have_text("Cannot write data: Broken pipe")
    expect(panel.locator(f"#op-{mine.pk}")).to_have_count(0)
    page.locator("label[for=ops-filter-failed]").click()
    page.locator("label[for=ops-filter-mine]").click()
    expect(panel.locator(f"#op-{mine.pk}")).to_be_visible()
    expect(panel.locator(f"#op-{theirs.pk}")).to_have_count(0)
    page.locator("label[for=ops-filter-mine]").click()
    expect(panel.locator(f"#op-{theirs.pk}")).to_be_visible()

    # Hidden, the main column takes the width; still hidden after a reload.
    main_before = page.locator("main").bounding_box()["width"]
    page.get_by_role("button", name="Hide").click()
    expect(page.locator("#ops-body")).to_be_hidden()
    assert page.locator("main").bounding_box()["width"] > main_before + 100
    page.reload()
    expect(page.locator("#ops-body")).to_be_hidden()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#ops-body")).to_be_visible()

    # The record: what, on what, how it ended, and its audit rows.
    panel.locator(f"#op-{theirs.pk} .op-label").click()
    expect(page.get_by_role("heading", name=f"Reboot {vm.name}")).to_be_visible()
    expect(page.locator("#op-detail-error")).to_have_text("Cannot write data: Broken pipe")
    expect(page.locator("#op-audit tbody tr").first).to_contain_text("Rebooted VM")
    tab.assert_quiet()
