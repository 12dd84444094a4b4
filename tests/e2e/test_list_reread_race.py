"""A list asked to re-read itself while its last re-read is on its way must not lose the second ask.

This is the race behind a clone that "succeeded" but never showed in the VM list (CI, issue 8's
journey test): the socket's opening re-read the list, the clone's "created" marker arrived while
that re-read was on its way, htmx queued the second re-read on the table, the first answer (read
before the clone existed) replaced the table, and htmx sends nothing for an element that left the
page. The test holds the first re-read, answers it with the list as it was, creates a VM, asks
again, and only then hands the old answer over.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import wait_for

pytestmark = [pytest.mark.browser]


def test_a_vm_created_while_the_list_re_reads_itself_shows_up(
    transactional_db, stack, demo_host, operator, new_vm, open_tab
):
    tab = open_tab(operator)
    page = tab.page
    tab.goto("/vms/")
    tab.wait_live()
    expect(page.locator("#vm-table.htmx-request")).to_have_count(0)
    before = page.locator("#vm-table").evaluate("table => table.outerHTML")

    held = []
    is_list = re.compile(r"/vms/(\?.*)?$")
    page.route(is_list, lambda route: held.append(route))
    page.evaluate("htmx.trigger('#vm-table', 'kv:refresh')")
    wait_for(lambda: held or page.evaluate("0"), message="the list's re-read to leave")
    vm = new_vm(demo_host)  # its "created" marker asks the list to re-read itself again
    expect(page.locator("#vm-table.htmx-request")).to_have_count(1)
    page.evaluate("htmx.trigger('#vm-table', 'kv:refresh')")  # as the marker does, for certain
    held[0].fulfill(status=200, body=before, content_type="text/html; charset=utf-8")
    page.unroute(is_list)

    expect(page.locator("#vm-rows").get_by_role("link", name=vm.name, exact=True)).to_be_visible()
    tab.assert_quiet()
