"""The VM page's tabs follow the VM live, without eating what someone is typing: a change that
arrives mid-edit is announced, and the tab is re-read when they ask (or send the form)."""

import threading

import pytest
from playwright.sync_api import expect

from apps.compute.virt import domains
from apps.hosts.virt import connection
from tests.helpers import wait_for

pytestmark = [pytest.mark.browser]


def _outside(action, vm):
    """A change made outside the page, in a thread (Playwright's event loop owns this one)."""
    worker = threading.Thread(target=lambda: domains.power(connection.get(vm.host.uri), str(vm.uuid), action))
    worker.start()
    worker.join()


def test_a_change_while_typing_keeps_the_text_and_says_so(
    transactional_db, stack, demo_host, operator, open_tab, new_vm
):
    vm = new_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/?tab=overview")
    tab.wait_live()
    section = page.locator(f"#vm-tab-{vm.pk}")

    # Untouched, the tab simply follows the VM.
    _outside("start", vm)
    expect(section).to_contain_text("running (booted)")

    page.locator('#vm-tabs a[data-tab="settings"]').click()
    expect(page.locator(f'#vm-tab-{vm.pk}[data-tab="settings"]')).to_be_visible()
    page.get_by_label("Title").fill("half-typed title")
    _outside("suspend", vm)
    expect(section.locator(".kv-stale")).to_contain_text("The VM changed while you were typing here")
    expect(page.get_by_label("Title")).to_have_value("half-typed title")

    section.get_by_role("link", name="re-read it now").click()
    expect(section.locator(".kv-stale")).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("")
    tab.assert_quiet()


def test_a_reread_already_on_its_way_does_not_eat_what_was_typed(
    transactional_db, stack, demo_host, operator, open_tab, new_vm
):
    """The re-read left before the typing began (on a reconnect, say) and answers after it: its
    answer is not applied, and the tab says it is behind."""
    vm = new_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/?tab=snapshots")
    tab.wait_live()
    section = page.locator(f'#vm-tab-{vm.pk}[data-tab="snapshots"]')
    expect(section).to_be_visible()
    # The re-read that follows the socket's opening has landed: nothing is loading in the tab area.
    page.wait_for_function("() => !document.querySelector('#vm-tab-area .htmx-request')")

    held = []  # the re-read's request, answered only once the typing is done
    page.route(f"**/vms/{vm.pk}/snapshots/", lambda route: held.append(route))
    page.evaluate(f"htmx.trigger(document.getElementById('vm-tab-{vm.pk}'), 'kv:refresh')")
    section.get_by_label("Name").fill("before")
    wait_for(lambda: held or page.evaluate("0"), message="the re-read to leave")
    held[0].continue_()
    expect(section.locator(".kv-stale")).to_be_visible()
    expect(section.get_by_label("Name")).to_have_value("before")
    page.unroute(f"**/vms/{vm.pk}/snapshots/")
    tab.assert_quiet()
