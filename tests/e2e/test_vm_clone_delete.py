"""Clone and delete from the browser: the forms on their pages, a real worker doing the work on
the test driver, the operations panel and the VM list following live, and the audit rows."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.storage.virt import volumes as volume_virt
from tests.compute.lifecycle.lifecycle_helpers import make_source, test_pool  # noqa: F401  (a fixture)
from tests.helpers import created_domains, unique, wait_for

pytestmark = [pytest.mark.browser]


@pytest.fixture
def source(transactional_db, stack, demo_host, pool, test_driver):
    """Made before the browser starts (live publishes cannot run beside Playwright's loop)."""
    return make_source(demo_host, pool, test_driver)


def test_clone_then_delete_with_storage(source, pool, test_driver, operator, open_tab):  # noqa: F811
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{source.pk}/")
    tab.wait_live()
    page.get_by_role("link", name="Clone…").click()
    expect(page.get_by_role("heading", name=f"Clone {source.name}")).to_be_visible()

    # A bad name first: the form says why, and nothing is queued.
    page.get_by_label("New name").fill("bad name/x")
    page.get_by_role("button", name="Clone").click()
    expect(page.locator("#clone-error")).to_contain_text("ASCII letters, digits")

    new = unique("lc")
    page.get_by_label("New name").fill(new)
    page.get_by_role("button", name="Clone").click()
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    op = page.locator('#ops-list li.op[data-kind="vm.clone"]').filter(has_text=source.name)
    expect(op.locator(".op-status")).to_have_text("succeeded")
    clone = wait_for(lambda: VirtualMachine.objects.filter(name=new, present=True).first(), message="the clone's row")
    created_domains.append(str(clone.uuid))
    expect(page.get_by_role("link", name=new)).to_be_visible()
    assert f"{new}-vda.qcow2" in {v.name for v in volume_virt.list_volumes(test_driver, str(pool.uuid))}

    page.get_by_role("link", name=new).click()
    page.get_by_role("link", name="Delete…").click()
    expect(page.locator("#delete-disks")).to_contain_text(f"/default-pool/{new}-vda.qcow2")
    page.get_by_label("Delete its volumes").check()
    tab.accept_confirms = True  # the delete button asks "Delete …? This cannot be undone."
    page.get_by_label(f"Type {new} to confirm").fill(new[:-1])
    page.get_by_role("button", name="Delete VM").click()
    expect(page.locator("#delete-error")).to_contain_text("exactly to confirm")
    page.get_by_label(f"Type {new} to confirm").fill(new)
    page.get_by_role("button", name="Delete VM").click()
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    op = page.locator('#ops-list li.op[data-kind="vm.delete"]').filter(has_text=new)
    expect(op.locator(".op-status")).to_have_text("succeeded")
    expect(page.get_by_role("link", name=new, exact=True)).to_have_count(0)
    assert f"{new}-vda.qcow2" not in {v.name for v in volume_virt.list_volumes(test_driver, str(pool.uuid))}
    assert tab.errors == []

    # One line per action, carrying how it ended.
    tab.nav("Audit log")
    for action, name in (("vm.clone", source.name), ("vm.delete", new)):
        rows = page.locator(f"tr.audit-row[data-action='{action}']").filter(has_text=name)
        expect(rows.and_(page.locator("[data-outcome='succeeded']"))).to_have_count(1)
