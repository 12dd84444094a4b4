"""Browser end-to-end tests: Debian's Chromium, driven by Playwright's sync API, against the real
stack (uvicorn, Celery worker, monitor) from tests/conftest.py.

Playwright's sync API keeps an asyncio loop marked as running in this thread while a browser is
open, so Django would refuse ORM calls from the test ("SynchronousOnlyOperation").
DJANGO_ALLOW_ASYNC_UNSAFE lifts that check, but only here: it is set after the stack has started
(the web server and worker must keep the check, it finds real bugs there) and removed when the
module's browser closes (tests run after these, in the same session, keep it too). For the same
reason the browser lives for one module, not the session: asgiref's async_to_sync refuses to run
in a thread with a running loop, and later tests need it.
"""

import os
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.virt import connection
from tests.conftest import PASSWORD
from tests.helpers import TEST_URI, define_test_domain, unique, wait_for

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


@pytest.fixture(scope="module")
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

    def wait_live(self):
        """The badge in the navbar turns "live" once the WebSocket is open; events sent
        earlier are not replayed on a first connect, so a test acts only after this."""
        expect(self.page.locator("#live-status")).to_have_text("live")


@pytest.fixture
def open_tab(browser, stack, request):
    """open_tab(user=None) -> a Tab in a fresh browser context (its own cookies), logged in if a
    user is given. Alerts and page errors are recorded and printed if the test fails."""
    contexts = []
    tabs = []

    def _open(user=None):
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = Tab(page=context.new_page(), base_url=stack.url)
        tab.page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tabs.append(tab)
        if user is not None:
            tab.login(user)
        return tab

    yield _open
    for i, tab in enumerate(tabs):
        if tab.dialogs or tab.errors:
            print(f"tab {i}: dialogs={tab.dialogs} page errors={tab.errors}")
    for context in contexts:
        context.close()


@pytest.fixture
def cleanup_domains(test_driver):
    """UUIDs appended here are undefined after the test, so the shared test driver (and the VM
    list of later runs) does not fill up with leftovers."""
    uuids = []
    yield uuids
    conn = connection.get(TEST_URI)
    for uuid in uuids:
        try:
            if domains.domain_info(conn, uuid) is not None:
                domains.undefine(conn, uuid)
        except Exception as exc:  # noqa: BLE001 — cleanup must not mask the test's own result
            print(f"cleanup of domain {uuid} failed: {exc}")


@pytest.fixture
def new_vm(cleanup_domains):
    """new_vm(host, start=False) -> a fresh domain on the test driver, once the monitor has put
    it in the inventory.

    Not helpers.make_vm: it writes the inventory row itself, and with the stack's monitor
    running the monitor may insert the same row at the same moment (the domain's "defined"
    event or a tick), and one of the two fails on the (host, uuid) unique constraint.
    """

    def _new(host, *, start=False):
        uuid = define_test_domain(unique(), start=start)
        cleanup_domains.append(uuid)
        state = "running" if start else "shutoff"
        return wait_for(
            lambda: VirtualMachine.objects.filter(host=host, uuid=uuid, present=True, state=state).first(),
            timeout=10,
            message=f"the monitor to list domain {uuid} as {state}",
        )

    return _new
