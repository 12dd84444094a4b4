"""The create wizard in Chromium: fill it in as a person would, read the XML, create, and see the
new VM arrive in the list with its operation and audit records."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.operations.models import Operation
from tests.helpers import created_domains, unique, wait_for

pytestmark = [pytest.mark.browser]


def test_create_a_vm_through_the_wizard(transactional_db, stack, demo_host, operator, open_tab):
    wait_for(lambda: type(demo_host).objects.get(pk=demo_host.pk).is_up, timeout=20, message="the monitor")
    name = unique("wizard")
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/new/?host={demo_host.pk}")
    expect(page.get_by_role("heading", name="New virtual machine")).to_be_visible()
    tab.wait_live()

    page.locator("#os-search").fill("debian 11")
    expect(page.locator("#id_os_id option[value='debian11']")).to_have_count(1)
    page.locator("#id_os_id").select_option("debian11")
    # the OS brings its recommended sizes (the form is re-rendered by htmx)
    expect(page.locator("#os-facts")).to_contain_text("Debian 11")
    expect(page.get_by_label("Memory (MiB)")).to_have_value("1024")

    page.get_by_label("Name").fill(name)
    page.get_by_label("Memory (MiB)").fill("256")
    page.get_by_label("Network boot (PXE)").check()
    page.get_by_label("Network", exact=True).select_option("default")
    page.get_by_role("button", name="Review XML").click()

    preview = page.locator("#create-xml-preview")
    expect(preview).to_contain_text(f"<name>{name}</name>")
    expect(preview).to_contain_text('<libosinfo:os id="http://debian.org/debian/11"/>')
    page.get_by_role("button", name="Create").click()

    page.wait_for_url("**/vms/?host=*")
    row = page.locator("tr").filter(has_text=name)
    expect(row).to_have_count(1, timeout=15_000)
    expect(row).to_contain_text("running")
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=demo_host, name=name).first(), message="the VM row")
    created_domains.append(str(vm.uuid))
    op_item = page.locator('#ops-list li.op[data-kind="vm.create"]').filter(has_text=name)
    expect(op_item.locator(".op-status")).to_have_text("succeeded")
    assert Operation.objects.get(kind="vm.create", params__name=name).status == "succeeded"
    tab.assert_quiet()

    tab.nav("Audit log")
    rows = page.locator("tr.audit-row[data-action='vm.create']").filter(has_text=name)
    expect(rows).to_have_count(1)  # one line per action: the request and its outcome
    expect(rows).to_have_attribute("data-outcome", "succeeded")
