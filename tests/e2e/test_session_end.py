"""An open page stops receiving live fragments when its user's account or rights change, and says
why (issue: teams stay apart, item 9): deactivated within 2 s, a revoked grant reconnects."""

import threading

import pytest
from playwright.sync_api import expect

from apps.accounts import services
from apps.authz.models import Grant
from tests.helpers import make_vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as_admin_elsewhere(change):
    """Run a service in another thread: Playwright's sync API holds an event loop in this one,
    where publishing to the channel layer (async_to_sync) cannot run."""
    thread = threading.Thread(target=change)
    thread.start()
    thread.join(timeout=10)


def test_a_deactivated_viewer_sees_why_the_page_went_quiet(stack, demo_host, admin, viewer, open_tab):
    make_vm(demo_host)
    tab = open_tab(viewer)
    tab.page.goto(f"{tab.base_url}/vms/")
    tab.wait_live()
    _as_admin_elsewhere(lambda: services.user_update(actor=admin, user=viewer, is_active=False))
    expect(tab.page.locator("#kv-session-ended")).to_contain_text("Your account was deactivated.", timeout=2_000)
    expect(tab.page.locator("#live-status")).to_have_text("signed out")
    tab.assert_quiet()


def test_a_revoked_grant_reconnects_the_page_with_the_rights_left(stack, demo_host, admin, viewer, open_tab):
    tab = open_tab(viewer)
    tab.page.goto(f"{tab.base_url}/vms/")
    tab.wait_live()
    tab.page.evaluate(
        "window.__closes = []; document.addEventListener('htmx:wsClose', e => window.__closes.push(e.detail.event.reason))"
    )
    grant = Grant.objects.get(user=viewer)
    _as_admin_elsewhere(lambda: services.grant_remove(actor=admin, grant=grant))
    tab.page.wait_for_function("() => window.__closes.length > 0", timeout=2_000)
    assert tab.page.evaluate("window.__closes") == ["Your rights changed."]
    expect(tab.page.locator("#live-status")).to_have_text("live", timeout=10_000)  # reconnected
    expect(tab.page.locator("#kv-session-ended")).to_have_count(0)
    tab.assert_quiet()
