"""The Snapshots and XML tabs in Chromium against the real stack: take two snapshots, revert to the
first (the confirm warns what is lost), and an XML edit libvirt refuses, whose message appears
beside the user's own text without a reload."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.operations.models import Operation

pytestmark = [pytest.mark.browser]


def test_snapshot_revert_and_a_refused_xml_edit(transactional_db, stack, demo_host, operator, open_tab, new_vm):
    vm = new_vm(demo_host)
    tab = open_tab(operator)
    page = tab.page
    tab.goto(reverse("compute:vm_detail", args=[vm.pk]) + "?tab=snapshots")
    tab.wait_live()
    page.evaluate("window.__marker = 1")
    tab.accept_confirms = True  # Revert asks in the page first; what it asked is in tab.confirms

    section = page.locator(f"#vm-tab-{vm.pk}")
    for name in ("before", "after"):
        section.get_by_label("Name").fill(name)
        section.get_by_role("button", name="Take snapshot").click()
        expect(section.locator(f'tr.snapshot-row[data-name="{name}"] .snapshot-current')).to_be_visible()
    expect(section.locator('tr.snapshot-row[data-name="after"]')).to_have_attribute("data-parent", "before")

    section.locator('tr.snapshot-row[data-name="before"]').get_by_role("button", name="Revert").click()
    expect(section.locator('tr.snapshot-row[data-name="before"] .snapshot-current')).to_be_visible()
    expect(section.locator(".snapshot-current")).to_have_count(1)
    [question] = [m for m in tab.confirms if m.startswith("Revert")]
    assert "Everything that changed since it was taken is discarded" in question
    reverted = page.locator('#ops-list li.op[data-kind="vm.snapshot_revert"]')
    expect(reverted.locator(".op-status")).to_have_text("succeeded")

    # The XML tab: an edit only libvirt's schema catches.
    page.locator('#vm-tabs a[data-tab="xml"]').click()
    textarea = page.locator("#xml-text")
    expect(textarea).to_be_visible()
    text = textarea.input_value().replace("bus='virtio'", "bus='bogus'")
    assert "bus='bogus'" in text
    textarea.fill(text)
    page.get_by_role("button", name="Validate and save").click()
    refused = page.locator(".xml-refused")
    expect(refused).to_contain_text("libvirt refused the definition; nothing was changed.")
    expect(refused).to_contain_text("failed to validate against schema")
    assert "bus='bogus'" in page.locator("#xml-text").input_value()  # their text, kept
    op = Operation.objects.get(kind="vm.xml_edit", target_id=str(vm.pk))
    assert op.status == "failed" and " ".join(op.error.split()) in " ".join(refused.inner_text().split())

    assert page.evaluate("window.__marker") == 1, "the page reloaded; it should have changed in place"
    tab.assert_quiet()
