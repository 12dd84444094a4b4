"""kvmweb on a phone (390 × 844): nothing is wider than the screen, the navigation folds behind a
toggler, the VM list is a stack of cards, the operations panel is a drawer, and every main action
(Force off, Clone, Delete) is in a menu a thumb can reach."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _phone_tab(open_tab, user):
    tab = open_tab()
    tab.page.set_viewport_size(PHONE)
    tab.login(user)
    return tab


def _no_sideways_scroll(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a {PHONE['width']} px screen"


def _on_screen(locator):
    expect(locator).to_be_visible()
    # Measured in one step: a live update may replace the element between two calls.
    left, right = locator.evaluate("(el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; }")
    assert left >= 0 and right <= PHONE["width"], f"off-screen: {left}..{right}"


def test_the_vm_list_and_a_vm_page_fit_a_phone(transactional_db, stack, demo_host, admin, open_tab, new_vm):
    running = new_vm(demo_host, start=True)
    stopped = new_vm(demo_host)
    tab = _phone_tab(open_tab, admin)
    page = tab.page
    tab.wait_live()

    # The list: cards, no header row, nothing sideways; each card's actions are in its own menu.
    _no_sideways_scroll(page)
    expect(page.locator(".vm-cards thead")).to_be_hidden()
    card = page.locator(f"#vm-row-{running.pk}")
    expect(card).to_have_css("display", "block")
    _on_screen(card.get_by_role("link", name=running.name))
    expect(card.get_by_role("button", name="Force off")).to_be_hidden()
    card.get_by_role("button", name="Actions").click()
    _on_screen(card.get_by_role("button", name="Force off"))
    _no_sideways_scroll(page)
    page.keyboard.press("Escape")
    expect(card.get_by_role("button", name="Force off")).to_be_hidden()
    _on_screen(page.locator(f"#vm-row-{stopped.pk}").get_by_role("button", name="Actions"))

    # The bulk bar: a selection counts, and every bulk button is on the screen.
    card.locator("input.vm-select").check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    bulk = page.locator("#bulk-form button")
    assert bulk.count() >= 4
    for i in range(bulk.count()):
        _on_screen(bulk.nth(i))
    card.locator("input.vm-select").uncheck()

    # A VM page: its actions fold into one menu; Clone… and Delete… open their pages.
    card.get_by_role("link", name=running.name).click()
    expect(page.get_by_role("heading", name=running.name, exact=True)).to_be_visible()
    tab.wait_live()  # the summary re-reads itself once the socket opens
    _no_sideways_scroll(page)
    summary = page.locator(f"#vm-summary-{running.pk}")
    # Every power action of a running VM is in the menu, on the screen; every tab can be reached.
    summary.get_by_role("button", name="Actions").click()
    for name in ("Shut down", "Reboot", "Pause", "Force off"):
        _on_screen(summary.get_by_role("button", name=name, exact=True))
    page.keyboard.press("Escape")
    tabs = page.locator("#vm-tabs a")
    assert tabs.count() >= 8
    for i in range(tabs.count()):
        tabs.nth(i).scroll_into_view_if_needed()
        _on_screen(tabs.nth(i))
    _no_sideways_scroll(page)
    for name, heading in (("Clone…", f"Clone {running.name}"), ("Delete…", f"Delete {running.name}?")):
        expect(summary.get_by_role("link", name=name)).to_be_hidden()
        summary.get_by_role("button", name="Actions").click()
        _on_screen(summary.get_by_role("link", name=name))
        summary.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        _no_sideways_scroll(page)
        tab.goto(f"/vms/{running.pk}/")
        expect(page.get_by_role("heading", name=running.name, exact=True)).to_be_visible()
        tab.wait_live()

    # Force off, confirmed, from the menu: the VM stops and the drawer shows the operation.
    tab.accept_confirms = True
    summary.get_by_role("button", name="Actions").click()
    _on_screen(summary.get_by_role("button", name="Force off"))
    summary.get_by_role("button", name="Force off").click()
    expect(summary.locator(".vm-state")).to_have_text("shut off", ignore_case=True, timeout=20_000)
    assert tab.confirms and running.name in tab.confirms[0]

    drawer = page.locator("#ops-drawer")
    expect(drawer).to_be_hidden()
    page.get_by_role("button", name="Operations").click()
    expect(drawer).to_be_visible()
    expect(drawer).to_have_css("transform", "none")  # slid all the way in
    _on_screen(drawer.locator("#ops-list li.op").first)
    _no_sideways_scroll(page)
    drawer.get_by_role("button", name="Close the operations panel").click()
    expect(drawer).to_be_hidden()

    tab.assert_quiet()


def test_the_navigation_folds_behind_a_toggler(transactional_db, stack, demo_host, viewer, open_tab):
    tab = _phone_tab(open_tab, viewer)
    page = tab.page
    nav = page.locator(".navbar")
    link = nav.get_by_role("link", name="Audit log", exact=True)
    expect(link).to_be_hidden()

    nav.get_by_role("button", name="Menu").click()
    _on_screen(link)
    # Light links on the dark bar.
    color = link.evaluate("(a) => getComputedStyle(a).color")
    background = nav.evaluate("(n) => getComputedStyle(n).backgroundColor")
    assert color.startswith("rgba(255, 255, 255") or color == "rgb(255, 255, 255)", color
    assert background == "rgb(33, 37, 41)", background
    link.click()
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    expect(link).to_be_hidden()  # the menu is folded again on the new page
    _no_sideways_scroll(page)

    tab.assert_quiet()
