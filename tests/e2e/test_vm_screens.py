"""VM screens in the browser: the VM list as cards, a running VM's picture asked for with Refresh
and arriving by itself once the host's worker has taken it, the view kept while filtering, and
the same picture on the VM page's Overview."""

import pytest
from playwright.sync_api import expect

from apps.consoles import screens

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def no_thumbnails():
    r = screens._r()
    for key in r.scan_iter("kvmweb:screen*"):
        r.delete(key)


def loaded(page, selector):
    """The image at `selector` has arrived and decoded (a broken one has no natural width)."""
    page.wait_for_function(
        "(sel) => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        arg=selector,
    )


def view_switch(page, name):
    """Choose Table or Cards as a person does: by the button (the radio behind it is hidden)."""
    page.locator("#vm-filter").get_by_text(name, exact=True).click()
    expect(page.get_by_role("radio", name=name)).to_be_checked()


def test_cards_show_a_screen_after_refresh(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    running, stopped = new_vm(demo_host, start=True), new_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.nav("Virtual machines")
    tab.wait_live()
    view_switch(page, "Cards")
    expect(page.locator(f"#vm-card-{running.pk}")).to_be_visible()
    screen = page.locator(f"#screen-{running.pk}")
    expect(screen).to_contain_text("No picture yet")
    expect(page.locator(f"#screen-{stopped.pk}")).to_contain_text("No screen while the VM is shut off.")

    screen.get_by_role("button", name=f"Refresh the screen of {running.name}").click()
    expect(screen.get_by_role("img", name=f"Screen of {running.name}")).to_be_visible(timeout=20_000)
    loaded(page, f"#screen-{running.pk} img")
    expect(screen).to_contain_text("Taken")

    # Filtering keeps the cards, and the table keeps the filter; a reload shows what was chosen.
    assert "view=cards" in page.url
    page.get_by_label("Name").fill(running.name)
    expect(page.locator(".vm-card")).to_have_count(1)
    page.reload()
    tab.wait_live()
    expect(page.locator(".vm-card")).to_have_count(1)
    loaded(page, f"#screen-{running.pk} img")
    view_switch(page, "Table")
    expect(page.locator(".vm-card")).to_have_count(0)
    expect(page.locator("#vm-rows tr[id]")).to_have_count(1)

    # The VM page's Overview shows the same picture.
    page.locator(f"#vm-row-{running.pk}").get_by_role("link", name=running.name).click()
    loaded(page, f"#screen-{running.pk} img")
    tab.assert_quiet()
