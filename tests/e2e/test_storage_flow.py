"""Issue 4's flow in Chromium on the real libvirtd: a dir pool made from its form, a volume, a file
uploaded with the bar moving and downloaded back byte-identical, the volume attached to a running
VM from its Disks section, detached, deleted — every step followed live, without reloads."""

import os
import subprocess

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.storage.models import StoragePool
from apps.storage.virt import pools
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
MiB = 1 << 20


@pytest.fixture
def local_host(stack, qemu_conn, tiny_domain):
    name, dom_uuid = tiny_domain
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name, state="running").first(), timeout=30)
    pool_name = unique("kvmweb-test-pool")
    yield host, vm, pool_name
    pool = StoragePool.objects.filter(host=host, name=pool_name).first()
    if pool is not None:
        pools.undefine_quietly(qemu_conn, str(pool.uuid))
    subprocess.run(["rm", "-rf", f"/var/lib/libvirt/{pool_name}"], check=False)


def _succeeded(page, kind, name):
    row = page.locator(f'#ops-list li.op[data-status="succeeded"][data-kind="{kind}"]').filter(has_text=name)
    expect(row.first).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("tiny_domain", ["qemu"], indirect=True)
def test_pool_volume_upload_download_attach_delete(local_host, operator, open_tab, tmp_path):
    host, vm, pool_name = local_host
    data = os.urandom(3 * MiB + 123)
    (tmp_path / "payload.img").write_bytes(data)
    tab = open_tab(operator)
    page = tab.page

    # A dir pool from its typed form: preview the XML, define, and see it arrive running.
    tab.goto("/storage/pools/new/dir/")
    page.get_by_label("Name").fill(pool_name)
    page.get_by_label("Host").select_option(label="local")
    page.get_by_label("Target directory").fill(f"/var/lib/libvirt/{pool_name}")
    page.get_by_role("button", name="Preview XML").click()
    expect(page.locator("#pool-xml-preview")).to_contain_text(f"<name>{pool_name}</name>")
    page.get_by_role("button", name="Define").click()
    tab.wait_live()
    row = page.locator("#pool-table tr").filter(has_text=pool_name)
    expect(row.locator(".pool-state")).to_have_text("active", timeout=30_000)
    row.get_by_role("link", name=pool_name).click()
    tab.wait_live()

    # Upload: the bar moves, and the volume appears in the table live.
    upload = page.locator("#volume-upload")
    upload.locator('input[type="file"]').set_input_files(str(tmp_path / "payload.img"))
    page.evaluate(
        """() => { window.widths = []; const bar = document.querySelector(".upload-sent");
        new MutationObserver(() => window.widths.push(bar.style.width)).observe(bar, {attributes: true}); }"""
    )
    upload.get_by_role("button", name="Upload").click()
    expect(upload.locator(".upload-status")).to_have_text("Uploaded.", timeout=30_000)
    widths = page.evaluate("window.widths")
    assert widths[-1] == "100%" and len({w for w in widths if w not in ("0%", "100%")}) >= 1, widths
    volume_row = page.locator('#volume-table tr.volume-row[data-name="payload.img"]')
    expect(volume_row).to_be_visible(timeout=15_000)

    # Download it back, byte for byte.
    volume_row.locator("summary").click()
    with page.expect_download() as download:
        volume_row.get_by_role("button", name="Download").click()
    assert open(download.value.path(), "rb").read() == data

    # Attach it to the running VM from the VM's Disks section, live and saved.
    tab.goto(f"/vms/{vm.pk}/?tab=disks")
    tab.wait_live()
    attach = page.locator("#disk-attach-form")
    attach.get_by_label("Volume").select_option(label="payload.img (raw, 3.0 MiB)")
    attach.get_by_role("button", name="Attach disk").click()
    disk = page.locator('#disk-table tr.disk-row[data-target="vdb"]')
    expect(disk).to_contain_text(f"/var/lib/libvirt/{pool_name}/payload.img", timeout=30_000)
    _succeeded(page, "vm.disk_attach", vm.name)

    # Detach (from the saved configuration too), then delete the volume.
    tab.accept_confirms = True  # Detach and Delete ask in the page first
    disk.get_by_role("button", name="Detach").click()
    _succeeded(page, "vm.disk_detach", vm.name)
    tab.goto(f"/storage/{StoragePool.objects.get(host=host, name=pool_name).pk}/")
    tab.wait_live()
    volume_row.locator("summary").click()
    volume_row.get_by_role("button", name="Delete").click()
    expect(volume_row).to_have_count(0, timeout=30_000)
    tab.assert_quiet()
