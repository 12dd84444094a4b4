"""Changes made behind the dashboard's back (virsh) reach an open page through the monitor."""

import subprocess

import pytest
from playwright.sync_api import expect

from apps.compute.virt.xml import Disk, Domain
from tests.helpers import TEST_URI, created_domains, unique

pytestmark = [pytest.mark.browser]


def virsh(*args):
    result = subprocess.run(["virsh", "-c", TEST_URI, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"virsh {' '.join(args)} failed: {result.stderr.strip()}"
    return result.stdout.strip()


def test_virsh_define_start_destroy_undefine_show_up_live(
    transactional_db, stack, demo_host, viewer, open_tab, tmp_path
):
    name = unique("virsh")
    xml = Domain(
        name=name,
        memory_mib=128,
        domain_type="test",
        disks=[Disk(source=f"/var/lib/libvirt/images/{name}.qcow2")],
    ).to_xml()
    xml_file = tmp_path / f"{name}.xml"
    xml_file.write_text(xml)

    tab = open_tab(viewer)
    page = tab.page
    tab.wait_live()
    page.evaluate("window.__marker = 1")

    row = page.locator("#vm-rows tr").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row).to_have_count(0)

    virsh("define", str(xml_file))
    created_domains.append(virsh("domuuid", name))  # removed after the test, if this one fails early
    expect(row).to_have_count(1)
    expect(row.locator(".vm-state")).to_have_text("shut off")

    virsh("start", name)
    expect(row.locator(".vm-state")).to_have_text("running")
    # The row pushed over the socket is rendered for this viewer: no power buttons.
    expect(row.get_by_role("button")).to_have_count(0)

    virsh("destroy", name)
    expect(row.locator(".vm-state")).to_have_text("shut off")

    virsh("undefine", name)
    expect(row).to_have_count(0)

    assert page.evaluate("window.__marker") == 1, "the VM list reloaded; it should have been updated in place"
    tab.assert_quiet()
