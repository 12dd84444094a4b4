"""A viewer sees no power buttons; forging the request anyway is refused and audited."""

import re

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

    view_tab.expect_status(403)  # the refusal this test provokes
    status = view_tab.page.evaluate(FORGE, f"/vms/{vm.pk}/start/")
    assert status == 403

    assert not Operation.objects.filter(target_id=str(vm.pk)).exists()
    vm.refresh_from_db()
    assert vm.state == "shutoff"

    admin_tab = open_tab(admin)
    admin_tab.nav("Audit log")
    denied = admin_tab.page.locator("tr.audit-row[data-outcome='denied']").filter(has_text=vm.name)
    expect(denied).to_have_count(1)
    cells = admin_tab.audit_cells(denied)
    expect(cells["User"]).to_contain_text(viewer.get_username())
    expect(cells["Target"]).to_contain_text(f"vm {vm.name}")
    expect(cells["Outcome"]).to_have_text("denied")
    # What was attempted: the permission (vm.power) or the action (vm.start), in either column.
    expect(denied).to_contain_text(re.compile(r"vm\.(power|start)"))

    assert VirtualMachine.objects.get(pk=vm.pk).state == "shutoff"
