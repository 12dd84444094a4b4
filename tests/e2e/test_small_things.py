"""Item 10 of issue 10: an icon instead of a 404, no console errors from live events whose
target is not on the page, destructive actions confirmed in the page, and team and role names
that refuse line breaks, tabs and dots."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Team
from apps.accounts.services import team_create
from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]


def test_favicon_and_live_events_leave_the_console_clean(
    transactional_db, stack, demo_host, operator, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)
    tab = open_tab(operator)
    page = tab.page
    assert page.request.get(tab.base_url + "/favicon.ico").ok
    expect(page.locator("link[rel=icon]")).to_have_count(1)

    # A reboot from the VM's page sends events for the list, the panel and bulk results too.
    tab.goto(reverse("compute:vm_detail", args=[vm.pk]))
    tab.wait_live()
    page.get_by_role("button", name="Reboot").first.click()
    op = page.locator('#ops-list li.op[data-kind="vm.reboot"]')
    expect(op.locator(".op-status")).to_have_text("succeeded", timeout=20_000)
    tab.assert_quiet()  # console errors included: htmx:oobErrorNoTarget would be one


def test_force_off_asks_in_the_page(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    vm = new_vm(demo_host, start=True)
    tab = open_tab(operator)
    page = tab.page
    tab.wait_live()
    row = page.locator(f"#vm-row-{vm.pk}")
    dialog = page.locator("#kv-confirm")

    row.get_by_role("button", name="Force off").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Force off {vm.name}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not Operation.objects.filter(kind="vm.destroy").exists()

    row.get_by_role("button", name="Force off").click()
    dialog.get_by_role("button", name="Confirm").click()
    expect(row.locator(".vm-state")).to_have_text("shut off", timeout=20_000)
    assert tab.dialogs == [] and tab.confirms == []  # no native pop-up
    tab.assert_quiet()


def test_team_delete_asks_in_the_page_and_names_are_checked(transactional_db, stack, admin, open_tab):
    team = team_create(actor=None, name="doomed")
    tab = open_tab(admin)
    page = tab.page
    tab.goto(reverse("accounts:team_detail", args=[team.pk]))
    page.get_by_role("button", name="Delete team").click()
    expect(page.locator("#kv-confirm")).to_contain_text("Delete team doomed?")
    page.locator("#kv-confirm").get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()
    assert not Team.objects.filter(pk=team.pk).exists()

    for name, error in [
        ("..", "A name needs more than dots."),
        ("a\tb", "no line breaks, tabs"),
        (" blue ", "Remove the blanks at the start or end."),
    ]:
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_role("button", name="Create team").click()
        expect(page.locator("form[novalidate]")).to_contain_text(error)
    assert not Team.objects.exists()

    tab.goto(reverse("accounts:role_list"))
    page.get_by_label("Name", exact=True).fill(".")
    page.get_by_role("button", name="Create role").click()
    expect(page.locator("form[novalidate]")).to_contain_text("A name needs more than dots.")
    tab.assert_quiet()
