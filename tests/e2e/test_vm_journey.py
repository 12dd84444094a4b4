"""A VM's whole life in Chromium on the real libvirtd with QEMU, as one person would live it:
create it with the wizard (a new sparse qcow2 disk on a pool, network boot on a libvirt network), see it
run, attach a new disk live and find it in the disk table, take a snapshot and revert to it, force
it off and clone it, then delete both with their storage — every step followed live in the page,
and checked in the audit log."""

import subprocess

import pytest
from lxml import etree
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.network.models import VirtualNetwork
from apps.storage.models import StoragePool
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local(stack, qemu_conn):
    """Host "local" (qemu:///system) with a dir pool and an isolated libvirt network of its own."""
    pool_name, net_name = unique("kvmweb-test-pool"), unique("kvmweb-test-net")
    path = f"/var/lib/libvirt/{pool_name}"
    pool_uuid = pools.define(qemu_conn, Pool(type="dir", name=pool_name, target=Target(path=path)).to_xml())
    pools.act(qemu_conn, pool_uuid, "build")
    pools.act(qemu_conn, pool_uuid, "start")
    root = etree.Element("network")
    etree.SubElement(root, "name").text = net_name
    net = qemu_conn.networkDefineXML(etree.tostring(root, encoding="unicode"))
    net.create()
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    wait_for(lambda: StoragePool.objects.filter(host=host, name=pool_name, state="running").exists(), timeout=30)
    wait_for(lambda: VirtualNetwork.objects.filter(host=host, name=net_name, present=True).exists(), timeout=30)
    made = []
    yield host, pool_name, net_name, made
    for name in made:  # what a failed run left behind
        try:
            domains.undefine(qemu_conn, qemu_conn.lookupByName(name).UUIDString())
        except Exception:  # noqa: BLE001 - already gone, as it should be
            pass
    net.destroy()
    net.undefine()
    pools.undefine_quietly(qemu_conn, pool_uuid)
    subprocess.run(["rm", "-rf", path], check=False)


def _succeeded(page, kind, name):
    op = page.locator(f'#ops-list li.op[data-kind="{kind}"]').filter(has_text=name).first
    expect(op.locator(".op-status")).to_have_text("succeeded", timeout=60_000)


def test_create_start_attach_snapshot_clone_delete(local, operator, open_tab):
    host, pool_name, net_name, made = local
    name, copy = unique("life"), unique("life")
    made += [name, copy]
    pool = StoragePool.objects.get(host=host, name=pool_name)
    tab = open_tab(operator)
    page = tab.page

    # Create: the wizard with a new 128 MiB qcow2 disk and network boot; it starts when created.
    tab.goto(f"/vms/new/?host={host.pk}")
    tab.wait_live()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Memory (MiB)").fill("128")
    page.get_by_label("vCPUs").fill("1")
    page.get_by_label("Network boot (PXE)").check()
    page.get_by_label("Network", exact=True).select_option(net_name)
    page.get_by_label("New disk on pool").select_option(str(pool.pk))
    page.get_by_label("Disk size (GiB)").fill("0.125")
    page.get_by_role("button", name="Review XML").click()
    expect(page.locator("#create-xml-preview")).to_contain_text(f"<name>{name}</name>")
    page.get_by_role("button", name="Create").click()
    _succeeded(page, "vm.create", name)
    row = page.locator("#vm-rows tr").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row.locator(".vm-state")).to_have_text("running", timeout=30_000)

    # Attach a new disk to the running VM: it shows in the disk table without a reload.
    vm = VirtualMachine.objects.get(host=host, name=name)
    row.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.locator('#vm-tabs a[data-tab="disks"]').click()
    expect(page.locator(f'#vm-tab-{vm.pk}[data-tab="disks"]')).to_be_visible()
    page.evaluate("window.__marker = 1")
    form = page.locator("#disk-new-form")
    form.get_by_label("Pool").select_option(str(pool.pk))
    form.get_by_label("Volume name").fill(f"{name}-data.qcow2")
    form.get_by_label("Size", exact=True).fill("16")
    form.locator('select[name="unit"]').select_option("MiB")
    expect(form.get_by_label("Live (now, in the running VM)")).to_be_checked()
    form.get_by_role("button", name="Create and attach").click()
    expect(page.locator('#disk-table tr.disk-row[data-target="vdb"]')).to_contain_text(f"{name}-data.qcow2")
    _succeeded(page, "vm.disk_new", name)

    # Snapshot (internal, with the memory of the running VM) and revert to it.
    page.locator('#vm-tabs a[data-tab="snapshots"]').click()
    section = page.locator(f'#vm-tab-{vm.pk}[data-tab="snapshots"]')
    section.get_by_label("Name").fill("installed")
    section.get_by_role("button", name="Take snapshot").click()
    snap = section.locator('tr.snapshot-row[data-name="installed"]')
    expect(snap.locator(".snapshot-current")).to_be_visible(timeout=60_000)
    tab.accept_confirms = True
    snap.get_by_role("button", name="Revert").click()
    _succeeded(page, "vm.snapshot_revert", name)
    assert any(m.startswith("Revert") for m in tab.confirms)
    assert page.evaluate("window.__marker") == 1, "the VM page reloaded; it should have changed in place"

    # Clone: force it off first (virt-clone wants the source shut off), then copy it.
    page.locator(".vm-state").first.wait_for()
    page.get_by_role("button", name="Force off").first.click()
    expect(page.locator(".vm-state").first).to_have_text("shut off", timeout=30_000)
    page.get_by_role("link", name="Clone…").click()
    page.get_by_label("New name").fill(copy)
    page.get_by_role("button", name="Clone").click()
    _succeeded(page, "vm.clone", name)
    vm_rows = page.locator("#vm-rows")  # the list itself; the operations panel links to VMs too
    expect(vm_rows.get_by_role("link", name=copy, exact=True)).to_be_visible()

    # Delete both, with their storage: the volumes go from the pool.
    for vm_name in (copy, name):
        tab.goto("/vms/")
        vm_rows.get_by_role("link", name=vm_name, exact=True).click()
        page.get_by_role("link", name="Delete…").click()
        page.get_by_label("Delete its volumes").check()
        if page.get_by_label("Delete the metadata of its", exact=False).count():
            page.get_by_label("Delete the metadata of its", exact=False).check()
        page.get_by_label(f"Type {vm_name} to confirm").fill(vm_name)
        page.get_by_role("button", name="Delete VM").click()
        _succeeded(page, "vm.delete", vm_name)
        expect(vm_rows.get_by_role("link", name=vm_name, exact=True)).to_have_count(0)
    wait_for(
        lambda: not pool.volumes.filter(name__startswith=name).exists()
        and not pool.volumes.filter(name__startswith=copy).exists(),
        timeout=30,
        message="the deleted VMs' volumes to leave the pool",
    )
    assert not VirtualMachine.objects.filter(name__in=[name, copy], present=True).exists()
    tab.assert_quiet()

    # The audit log holds one line for every step, saying it succeeded.
    tab.nav("Audit log")
    steps = [
        ("vm.create", name),
        ("vm.disk_new", name),
        ("vm.snapshot_create", name),
        ("vm.snapshot_revert", name),
        ("vm.destroy", name),
        ("vm.clone", name),
        ("vm.delete", copy),
        ("vm.delete", name),
    ]
    for action, target in steps:
        rows = page.locator(f"tr.audit-row[data-action='{action}']").filter(has_text=target)
        expect(rows.and_(page.locator("[data-outcome='succeeded']"))).to_have_count(1)
