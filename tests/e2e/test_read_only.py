"""Read-only explained: a Viewer on one host sees which grant lets them look, and controls that
are greyed with the reason on hover instead of gone; the Settings tab no longer tells them what
"changes now". The administrator's grant form picks its scope from a searchable, grouped list
with nothing chosen until they choose, "Everything" included."""

import pytest
from playwright.sync_api import expect

from apps.authz.models import Grant
from tests.e2e.access_users import other_host, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vera(demo_host):
    return person("vera", "Viewer", demo_host)


@pytest.fixture
def olly(demo_host):
    person("vera", "Viewer", other_host())
    return person("olly", "Operator", demo_host)


@pytest.fixture
def bob(db):
    return person("bob")


POWER_WHY = "Your role does not let you start, stop, reboot, pause and resume virtual machines here. Ask alice-admin."
EDIT_WHY = "Your role does not let you change a virtual machine's hardware and settings here. Ask alice-admin."


def test_a_viewer_reads_why_the_vm_and_host_are_read_only(stack, demo_host, admin, vera, new_vm, open_tab):
    vm = new_vm(demo_host)
    tab = open_tab(vera)
    page = tab.page

    tab.goto(f"/vms/{vm.pk}/")
    strip = page.locator("[data-read-only]")
    expect(strip.locator(".read-only-badge")).to_have_text("Read-only: Viewer on demo")
    start = strip.get_by_role("button", name="Start")
    expect(start).to_be_disabled()
    expect(start).to_have_attribute("title", POWER_WHY)

    page.get_by_role("tab", name="Settings").click()
    form = page.locator("#settings-form")
    expect(form.locator(".settings-read-only")).to_contain_text("You can see this VM's settings but not change them.")
    expect(form).not_to_contain_text("change now")
    save = form.get_by_role("button", name="Save settings")
    expect(save).to_be_disabled()
    expect(save).to_have_attribute("title", EDIT_WHY)

    tab.goto(f"/hosts/{demo_host.pk}/")
    expect(page.locator(".read-only-badge")).to_have_text("Read-only: Viewer on demo")
    tab.assert_quiet()


def test_an_operator_sees_no_read_only_badge_on_their_own_vm(stack, demo_host, admin, olly, new_vm, open_tab):
    vm = new_vm(demo_host)
    tab = open_tab(olly)
    tab.goto(f"/vms/{vm.pk}/")
    expect(tab.page.get_by_role("heading", name=vm.name)).to_be_visible()
    expect(tab.page.locator("[data-read-only]")).to_have_count(0)
    tab.assert_quiet()


def test_the_grant_form_searches_by_type_and_has_no_default(stack, demo_host, admin, bob, new_vm, open_tab):
    vm = new_vm(demo_host)
    tab = open_tab(admin)
    page = tab.page
    tab.goto(f"/accounts/users/{bob.pk}/")

    scope = page.locator("#grant-form select[name=scope]")
    expect(scope).to_have_value("")  # nothing chosen: "Everything" is not a default
    page.locator("#grant-form select[name=role]").select_option(label="Viewer")
    page.get_by_role("button", name="Grant").click()  # the browser asks for a choice first
    assert scope.evaluate("el => el.validity.valueMissing")
    assert not Grant.objects.filter(user=bob).exists()

    # Grouped by type, and the search leaves only what matches.
    expect(scope.locator("optgroup")).to_have_count(5)
    for label in ("Everywhere", "Hosts", "Virtual machines", "Storage pools", "Virtual networks"):
        expect(scope.locator(f"optgroup[label='{label}']")).to_have_count(1)
    page.get_by_label("Search what the grant is on").fill(vm.name)
    expect(scope.locator(f"optgroup[label='Virtual machines'] option[value='vm:{vm.pk}']")).to_be_visible()
    expect(scope.locator("optgroup[label='Hosts']")).to_be_hidden()
    expect(scope.locator("optgroup[label='Everywhere']")).to_be_hidden()

    scope.select_option(label=vm.name)
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".grant-row")).to_contain_text(vm.name)
    assert Grant.objects.get(user=bob).scope_id == vm.pk
    tab.assert_quiet()
