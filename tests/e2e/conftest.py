"""Browser end-to-end tests: Debian's Chromium, driven by Playwright's sync API, against the real
stack (uvicorn, Celery worker, monitor) from tests/conftest.py.

Playwright's sync API leaves an asyncio loop marked as running in this thread while it is
started. Two consequences, and why the browser lives for one test and starts after the test's
data fixtures (tests list `open_tab` after them):
- Django refuses ORM calls in such a thread ("SynchronousOnlyOperation"), so
  DJANGO_ALLOW_ASYNC_UNSAFE is set, but only while the browser is up: after the stack has
  started (the web server and worker keep the check, it finds real bugs there) and not for the
  rest of the session.
- asgiref's async_to_sync refuses to run in it, so services that publish live events (creating
  hosts and users does) would log failed publishes if called while the browser is up.
"""

import os
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.compute.models import VirtualMachine
from tests.conftest import PASSWORD
from tests.helpers import define_test_domain, unique, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1400, "height": 900}  # wide enough for the operations panel beside the main column

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def browser(stack):
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Tab:
    """One browser tab plus what went wrong in it that a user would notice (alerts, script errors)."""

    page: object
    base_url: str
    dialogs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    # Set to answer "OK" to confirmations (hx-confirm) as a person who means it would; what they
    # asked is kept in `confirms`. Otherwise every dialog is dismissed and counts as unexpected.
    accept_confirms: bool = False
    confirms: list = field(default_factory=list)
    # Console errors (htmx logs a failed swap or request there) and answers of 400 or more: a page
    # a person uses shows neither. A test that provokes a refusal says so (expect_status).
    console_errors: list = field(default_factory=list)
    bad_responses: list = field(default_factory=list)
    expected_statuses: set = field(default_factory=set)
    expected_console: list = field(default_factory=list)

    def on_dialog(self, dialog):
        if dialog.type == "confirm" and self.accept_confirms:
            self.confirms.append(dialog.message)
            dialog.accept()
        else:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

    def on_console(self, message):
        if message.type != "error":
            return
        text = message.text
        # The browser logs every answer of 400 or more as a failed resource; on_response judges those.
        if text.startswith("Failed to load resource: the server responded with a status of"):
            return
        # htmx logs a refused request too, which the test declared it expects.
        if text == "htmx:responseError" and self.expected_statuses:
            return
        # A request htmx dropped for a newer one (hx-sync) or for a page being left is no fault.
        if text.startswith(("htmx:sendAbort", "htmx:afterRequest")):
            return
        if any(part in text for part in self.expected_console):
            return
        self.console_errors.append(text)

    def on_response(self, response):
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.bad_responses.append(f"{response.status} {response.request.method} {response.url}")

    def expect_status(self, *statuses):
        """The test provokes answers with these statuses (a refusal it checks): not an error."""
        self.expected_statuses.update(statuses)

    def expect_console(self, text):
        """The test provokes a console error containing `text` (a refusal it checks)."""
        self.expected_console.append(text)

    def on_confirm_dialog(self, dialog):
        """The in-page confirmation (static/js/confirm.js) is answered like the browser's own:
        confirmed when the test set accept_confirms, otherwise left for the test to answer."""
        if self.accept_confirms:
            self.confirms.append(dialog.locator("#kv-confirm-text").inner_text())
            dialog.locator("#kv-confirm-ok").click()

    def goto(self, path):
        self.page.goto(self.base_url + path)

    def login(self, user):
        """Log in through the form, as a person would; lands on the VM list."""
        self.goto("/login/")
        self.page.get_by_label("Username").fill(user.get_username())
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("heading", name="Virtual machines")).to_be_visible()
        expect(self.page.locator(".navbar-text")).to_have_text(user.get_username())

    def nav(self, name):
        """Follow a link of the top navigation bar."""
        self.page.locator(".navbar").get_by_role("link", name=name, exact=True).click()
        expect(self.page.get_by_role("heading", name=name, exact=True)).to_be_visible()

    def assert_quiet(self):
        """No alert (kvmweb.js shows one when an htmx request fails), no script or console error,
        and no answer of 400 or more the test did not declare with expect_status. Checked again
        when the test ends."""
        assert self.dialogs == [], f"unexpected alert: {self.dialogs}"
        assert self.errors == [], f"script errors on the page: {self.errors}"
        assert self.console_errors == [], f"console errors on the page: {self.console_errors}"
        assert self.bad_responses == [], f"unexpected error responses: {self.bad_responses}"
        self.assert_icons()

    def assert_icons(self):
        """The page's icon and /favicon.ico answer. Chromium fetches icons outside the page, so
        they never reach on_response and a missing one would pass unseen; ask for them here."""
        if self.page.is_closed() or not self.page.url.startswith(self.base_url):
            return
        hrefs = self.page.eval_on_selector_all("link[rel~=icon]", "(links) => links.map((l) => l.href)")
        for url in [*hrefs, self.base_url + "/favicon.ico"]:
            answer = self.page.request.get(url)
            assert answer.ok, f"{url} answered {answer.status}"

    def audit_cells(self, row):
        """{column heading: cell} for one audit log row, so checks follow the headings rather than
        column positions."""
        headings = [h.strip() for h in self.page.locator("#audit-table thead th").all_inner_texts()]
        return {name: row.locator("td").nth(i) for i, name in enumerate(headings)}

    def wait_live(self):
        """The badge in the navbar turns "live" once the WebSocket is open, and the re-reads its
        opening asks for have come back; events sent earlier are not replayed on a first connect,
        so a test acts only after this."""
        expect(self.page.locator("#live-status")).to_have_text("live")
        # The socket's opening asks every partial to re-read itself; a click on a row that answer
        # is about to replace can land on the old row, which htmx no longer sends for. Act once
        # the page has caught up.
        expect(self.page.locator(".htmx-request")).to_have_count(0)


@pytest.fixture
def open_tab(browser, stack):
    """open_tab(user=None) -> a Tab in a fresh browser context (its own cookies), logged in if a
    user is given. Alerts (dismissed), script and console errors and error responses are recorded
    for Tab.assert_quiet, which runs again for every tab when the test ends; confirmations are
    dismissed too unless the test sets `tab.accept_confirms`."""
    contexts, tabs = [], []

    def _open(user=None):
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = Tab(page=context.new_page(), base_url=stack.url)
        tab.page.on("dialog", tab.on_dialog)
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tab.page.on("console", tab.on_console)
        tab.page.on("response", tab.on_response)
        dialog = tab.page.locator("#kv-confirm[open]")
        tab.page.add_locator_handler(dialog, lambda: tab.on_confirm_dialog(dialog), no_wait_after=True)
        tabs.append(tab)
        if user is not None:
            tab.login(user)
        return tab

    yield _open
    for tab in tabs:
        tab.assert_icons()
    for context in contexts:
        context.close()
    for tab in tabs:
        tab.assert_quiet()


@pytest.fixture
def new_vm():
    """new_vm(host, start=False) -> a fresh domain on the test driver, once the monitor has put
    it in the inventory: the path a real VM takes, with the stack's monitor running anyway.

    (helpers.make_vm writes the row from this process instead; its live publish then fails here,
    since asgiref's async_to_sync refuses to run beside Playwright's loop.)
    """

    def _new(host, *, start=False):
        uuid = define_test_domain(unique(), start=start)  # removed after the test by tests/conftest.py
        state = "running" if start else "shutoff"
        return wait_for(
            lambda: VirtualMachine.objects.filter(host=host, uuid=uuid, present=True, state=state).first(),
            timeout=10,
            message=f"the monitor to list domain {uuid} as {state}",
        )

    return _new
