"""Team operation as an administrator does it in the browser, and what the team member then may do."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIC_PASSWORD = "vic-is-a-good-operator-42"


def test_admin_grants_one_vm_to_a_team_member_who_may_use_only_that(demo_host, admin, new_vm, open_tab):
    granted, other = new_vm(demo_host), new_vm(demo_host)
    tab = open_tab(admin)
    page = tab.page

    # A team, and a user who joins it.
    tab.nav("Teams")
    page.get_by_label("Name").fill("blue")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Team blue")).to_be_visible()
    tab.nav("Users")
    page.get_by_label("Username").fill("vic")
    page.get_by_label("Password").fill(VIC_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="vic")).to_be_visible()
    tab.nav("Teams")
    page.get_by_role("link", name="blue").click()
    page.locator("#member-form select").select_option(label="vic")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".member")).to_contain_text("vic")

    # The team may power and use the console of one VM.
    page.locator("#grant-form select[name=role]").select_option(label="VM user")
    page.locator("#grant-form select[name=scope]").select_option(label=f"{granted.name}")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".grant-row")).to_contain_text(granted.name)

    # vic sees that VM only, starts it, and is refused the other one.
    assert User.objects.filter(username="vic", teams__name="blue").exists()
    vic_tab = open_tab()
    vic_tab.goto("/login/")
    vic_tab.page.get_by_label("Username").fill("vic")
    vic_tab.page.get_by_label("Password").fill(VIC_PASSWORD)
    vic_tab.page.get_by_role("button", name="Log in").click()
    rows = vic_tab.page.locator("#vm-table tbody tr[id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(granted.name)
    vic_tab.wait_live()
    rows.first.get_by_role("button", name="Start").click()
    expect(rows.first.locator(".vm-state")).to_have_text("running")
    # A VM vic may not see answers like one that does not exist.
    vic_tab.expect_status(404)
    response = vic_tab.page.goto(f"{vic_tab.base_url}/vms/{other.pk}/")
    assert response.status == 404

    # The admin reviews what vic did and exports it.
    tab.nav("Audit log")
    page.get_by_label("User").fill("vic")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"user=vic"))
    # One line per action, its outcome joined (the requested/succeeded pair stays in the export).
    starts = page.locator("#audit-table tr.audit-row[data-action='vm.start']")
    expect(starts).to_have_count(1)
    expect(starts).to_have_attribute("data-outcome", "succeeded")
    expect(tab.audit_cells(starts)["Outcome"].locator(".audit-outcome")).to_have_text("succeeded")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows and all(r["actor_name"] == "vic" for r in rows), rows[:3]
    assert {(r["action"], r["outcome"]) for r in rows} >= {("vm.start", "requested"), ("vm.start", "succeeded")}
    tab.assert_quiet()
