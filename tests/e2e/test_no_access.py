"""An account with no grants is told it has no access yet and whom to ask, instead of lists that
look like an empty system; someone with some access reads "none that you may see"."""

import pytest
from playwright.sync_api import expect

from tests.e2e.access_users import person
from tests.helpers import make_vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_account_with_no_grants_is_told_so_and_whom_to_ask(stack, demo_host, admin, outsider, open_tab):
    tab = open_tab(outsider)
    page = tab.page

    # The first page after logging in: the VM list.
    expect(page.locator("#vm-table .no-access")).to_have_text(
        "Your account has no access yet. People who can grant it: alice-admin."
    )
    expect(page.locator("#vm-table")).not_to_contain_text("No virtual machines")

    tab.nav("Hosts")
    expect(page.locator("#host-table .no-access")).to_have_text(
        "Your account has no access yet. People who can grant it: alice-admin."
    )
    expect(page.locator("#host-table")).not_to_contain_text("No hosts yet.")

    tab.goto("/storage/")
    expect(page.locator("#pool-table .no-access")).to_contain_text("Your account has no access yet.")
    expect(page.locator("#pool-table .no-access")).to_contain_text("alice-admin")
    tab.goto("/networks/")
    expect(page.locator("#network-table .no-access")).to_contain_text("Your account has no access yet.")
    tab.assert_quiet()


@pytest.fixture
def vic(demo_host):
    """A VM user on one VM: no hosts, no pools."""
    return person("vic", "VM user", make_vm(demo_host))


def test_someone_with_some_access_reads_none_that_you_may_see(stack, demo_host, admin, vic, open_tab):
    tab = open_tab(vic)
    page = tab.page

    tab.nav("Hosts")
    expect(page.locator("#host-table tbody")).to_have_text("No hosts that you may see.")
    tab.goto("/storage/")
    expect(page.locator("#pool-table tbody")).to_have_text("No storage pools that you may see.")
    tab.assert_quiet()
