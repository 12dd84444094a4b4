"""A viewer sees no power buttons; forging the request anyway is refused and audited."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]

FORGE = """async (url) => {
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  const response = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}});
  return response.status;
}"""


def test_viewer_forged_power_post_is_refused_and_audited(
    transactional_db, stack, demo_host, viewer, admin, open_tab, new_vm
):
    vm = new_vm(demo_host)

    view_tab = open_tab(viewer)
    view_tab.goto(f"/vms/{vm.pk}/")
    summary = view_tab.page.locator(f"#vm-summary-{vm.pk}")
    expect(summary.locator(".vm-state")).to_have_text("shut off")
    expect(summary.get_by_role("button")).to_have_count(0)

    status = view_tab.page.evaluate(FORGE, f"/vms/{vm.pk}/start/")
    assert status == 403

    assert not Operation.objects.filter(target_id=str(vm.pk)).exists()
    vm.refresh_from_db()
    assert vm.state == "shutoff"

    admin_tab = open_tab(admin)
    admin_tab.page.get_by_role("link", name="Audit log").click()
    expect(admin_tab.page.get_by_role("heading", name="Audit log")).to_be_visible()
    denied = admin_tab.page.locator("tr.audit-row[data-outcome='denied']").filter(has_text=vm.name)
    expect(denied).to_have_count(1)
    cells = denied.locator("td")
    expect(cells.nth(1)).to_have_text(viewer.get_username())
    expect(cells.nth(3)).to_have_text("auth.denied")
    expect(cells.nth(4)).to_have_text(f"vm {vm.name}")
    expect(cells.nth(6)).to_have_text("denied")
    expect(cells.nth(7)).to_contain_text("permission=vm.power")

    assert VirtualMachine.objects.get(pk=vm.pk).state == "shutoff"
