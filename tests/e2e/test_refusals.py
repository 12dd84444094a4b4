"""Refusals as the issue's users meet them: a Viewer on one host sent to the New VM wizard, an
Operator of another host following a link to a VM and a filtered list of a host that is not theirs."""

import pytest
from playwright.sync_api import expect

from tests.e2e.access_users import other_host, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vera(demo_host):
    return person("vera", "Viewer", demo_host)


@pytest.fixture
def otto(db):
    return person("otto", "Operator", other_host())


def test_a_viewer_sent_to_the_wizard_reads_the_missing_right_and_whom_to_ask(stack, demo_host, admin, vera, open_tab):
    tab = open_tab(vera)
    page = tab.page
    tab.expect_status(403)

    response = page.goto(f"{tab.base_url}/vms/new/")
    assert response.status == 403
    # The app's page, with its navigation, the reason in plain words and who can grant the right.
    expect(page.locator(".navbar").get_by_role("link", name="Hosts")).to_be_visible()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("#error-reason")).to_have_text("You may not create and clone virtual machines here.")
    expect(page.locator("#error-granters")).to_have_text("People who can grant access: alice-admin.")
    # And a way back.
    page.locator("#error-back").click()
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()


def test_a_vm_of_another_host_answers_like_one_that_does_not_exist(stack, demo_host, admin, otto, new_vm, open_tab):
    vm = new_vm(demo_host)
    tab = open_tab(otto)
    page = tab.page
    tab.expect_status(404)

    hidden = page.goto(f"{tab.base_url}/vms/{vm.pk}/")
    hidden_text, hidden_body = page.locator("main").inner_text(), hidden.body()
    missing = page.goto(f"{tab.base_url}/vms/{vm.pk + 100000}/")
    missing_text, missing_body = page.locator("main").inner_text(), missing.body()

    assert hidden.status == missing.status == 404
    assert hidden_text == missing_text
    assert len(hidden_body) == len(missing_body)
    assert vm.name not in hidden_text
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("#error-reason")).to_have_text("There is nothing here that your account may see.")
    expect(page.locator("#error-granters")).to_contain_text("alice-admin")


def test_a_shared_link_filtered_by_a_host_one_may_not_see_still_shows_the_list(
    stack, demo_host, admin, otto, new_vm, open_tab
):
    vm = new_vm(demo_host)
    tab = open_tab(otto)
    page = tab.page

    response = page.goto(f"{tab.base_url}/vms/?host={demo_host.pk}")
    assert response.status == 200
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    expect(page.locator("#vm-table")).not_to_contain_text(vm.name)

    response = page.goto(f"{tab.base_url}/storage/?host={demo_host.pk}")
    assert response.status == 200
    expect(page.locator(".filter-note")).to_have_text(
        "The host filter was left out: it names a host that your account may not see, or none."
    )
    expect(page.get_by_role("heading", name="Storage pools")).to_be_visible()
    tab.assert_quiet()
