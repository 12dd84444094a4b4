"""What a person is waiting on may leave the page meanwhile. A live update may replace what they
are confirming while the in-page dialog is open (a snapshot's row is re-read when another
operation ends); htmx sends nothing for an element that left the page, so the answer used to
vanish: the confirmed action now goes through the element that took its place, and when nothing
took it the person is told that nothing was sent. And a bulk result closed before the re-read of
its lines answered used to log an error for each line with nowhere to go."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Team
from apps.compute.models import VirtualMachine
from tests.helpers import wait_for

pytestmark = [pytest.mark.browser]

# What a live swap does: the same markup put in the element's place, processed by htmx again.
REPLACE = """(selector) => {
  const old = document.querySelector(selector);
  const copy = document.createRange().createContextualFragment(old.outerHTML).firstElementChild;
  old.replaceWith(copy);
  htmx.process(copy);
}"""


def _force_off(page):
    return page.locator("main").get_by_role("button", name="Force off").first


def test_a_confirmed_action_survives_its_button_being_replaced(
    transactional_db, stack, demo_host, admin, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)
    tab = open_tab(admin)
    page = tab.page
    tab.goto(reverse("compute:vm_detail", args=[vm.pk]))
    tab.wait_live()

    _force_off(page).click()
    dialog = page.locator("#kv-confirm")
    expect(dialog).to_be_visible()
    page.evaluate(REPLACE, "main button[hx-post$='/destroy/']")
    dialog.locator("#kv-confirm-ok").click()

    wait_for(
        lambda: VirtualMachine.objects.get(pk=vm.pk).state == "shutoff",
        timeout=20,
        message="the confirmed force-off to reach the VM",
    )


def test_a_confirmed_action_whose_button_left_sends_nothing_and_says_so(
    transactional_db, stack, demo_host, admin, open_tab, new_vm
):
    vm = new_vm(demo_host, start=True)
    tab = open_tab(admin)
    page = tab.page
    tab.goto(reverse("compute:vm_detail", args=[vm.pk]))
    tab.wait_live()

    _force_off(page).click()
    dialog = page.locator("#kv-confirm")
    expect(dialog).to_be_visible()
    page.evaluate("() => document.querySelector(\"main button[hx-post$='/destroy/']\").remove()")
    dialog.locator("#kv-confirm-ok").click()

    expect(dialog.locator("#kv-confirm-text")).to_contain_text("Nothing was sent")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert VirtualMachine.objects.get(pk=vm.pk).state == "running"


def test_a_confirmed_plain_form_survives_being_replaced(transactional_db, stack, admin, open_tab):
    team = Team.objects.create(name="confirm-replaced")
    tab = open_tab(admin)
    page = tab.page
    tab.goto(reverse("accounts:team_detail", args=[team.pk]))
    tab.wait_live()

    page.get_by_role("button", name="Delete team").click()
    dialog = page.locator("#kv-confirm")
    expect(dialog).to_be_visible()
    page.evaluate(REPLACE, "form[data-confirm]")
    dialog.locator("#kv-confirm-ok").click()

    expect(page.get_by_role("heading", name="Team confirm-replaced")).to_have_count(0)
    assert not Team.objects.filter(pk=team.pk).exists()


def test_an_answer_whose_targets_left_the_page_is_dropped_quietly(
    transactional_db, stack, demo_host, admin, open_tab, new_vm
):
    """A bulk result re-reads its lines when it lands; closed before that answer comes, the
    answer's out-of-band lines have nowhere to go, and must not be a console error."""
    vm = new_vm(demo_host)
    tab = open_tab(admin)
    page = tab.page
    held = []
    bulk = reverse("compute:vm_bulk")
    page.route(lambda url: bulk in url and "?" in url, lambda route: held.append(route))
    tab.goto(reverse("compute:vm_list"))
    tab.wait_live()

    page.get_by_label(f"select {vm.name}").check()
    page.locator("#bulk-form").get_by_role("button", name="Start").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Start queued for 1 VM")
    for _ in range(200):  # Playwright calls the route handler while the page is waited on
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the result never re-read its lines"
    page.locator("#bulk-summary").get_by_role("button", name="Close").click()
    expect(page.locator("#bulk-summary")).to_have_count(0)

    held[0].continue_()  # the answer, had the page still waited for it
    page.wait_for_timeout(500)
    tab.assert_quiet()
