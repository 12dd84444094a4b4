"""The VM page's Disks and NICs tabs in Chromium on the real libvirtd: a new volume created on a
pool and attached live to a running tiny QEMU VM shows in the disk table; a NIC added and removed
(saved configuration: this guest has no OS to let a NIC go live) shows and goes — all live,
without reloads, with the audit rows written."""

import subprocess

import pytest
from lxml import etree
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
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
def running_vm(stack, qemu_conn, tiny_domain):
    """The tiny VM running on host "local", a dir pool and an isolated libvirt network beside it."""
    name, dom_uuid = tiny_domain
    pool_name = unique("kvmweb-test-pool")
    path = f"/var/lib/libvirt/{pool_name}"
    pool_uuid = pools.define(qemu_conn, Pool(type="dir", name=pool_name, target=Target(path=path)).to_xml())
    pools.act(qemu_conn, pool_uuid, "build")
    pools.act(qemu_conn, pool_uuid, "start")
    root = etree.Element("network")
    etree.SubElement(root, "name").text = unique("kvmweb-test-net")
    net = qemu_conn.networkDefineXML(etree.tostring(root, encoding="unicode"))
    net.create()
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name, state="running").first(), timeout=30)
    wait_for(lambda: StoragePool.objects.filter(host=host, name=pool_name, state="running").exists(), timeout=30)
    wait_for(lambda: VirtualNetwork.objects.filter(host=host, name=net.name(), present=True).exists(), timeout=30)
    yield vm, pool_name, path, net.name()
    net.destroy()
    net.undefine()
    pools.undefine_quietly(qemu_conn, pool_uuid)
    subprocess.run(["rm", "-rf", path], check=False)


def _succeeded(page, kind, name):
    row = page.locator(f'#ops-list li.op[data-status="succeeded"][data-kind="{kind}"]').filter(has_text=name)
    expect(row.first).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("tiny_domain", ["qemu"], indirect=True)
def test_new_disk_attached_live_and_a_nic_added_and_removed(running_vm, operator, open_tab):
    vm, pool_name, path, network = running_vm
    tab = open_tab(operator)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/?tab=disks")
    tab.wait_live()
    page.evaluate("window.__marker = 1")

    # A bad name first: the reason shows by the form, nothing is queued.
    form = page.locator("#disk-new-form")
    form.get_by_label("Volume name").fill("../escape")
    form.get_by_label("Size", exact=True).fill("16")
    form.get_by_role("button", name="Create and attach").click()
    expect(page.locator("#disk-new-form .disk-error")).to_contain_text("cannot contain '/'")

    form = page.locator("#disk-new-form")
    form.get_by_label("Pool").select_option(str(StoragePool.objects.get(host=vm.host, name=pool_name).pk))
    form.get_by_label("Volume name").fill("data.qcow2")
    form.get_by_label("Size", exact=True).fill("16")
    form.locator('select[name="unit"]').select_option("MiB")
    expect(form.get_by_label("Live (now, in the running VM)")).to_be_checked()
    form.get_by_role("button", name="Create and attach").click()
    disk = page.locator('#disk-table tr.disk-row[data-target="vdb"]')
    expect(disk).to_contain_text(f"{path}/data.qcow2", timeout=30_000)
    expect(disk).to_contain_text("16 MiB")
    _succeeded(page, "vm.disk_new", vm.name)

    # NICs: add one to the saved configuration on the libvirt network, with a chosen MAC.
    page.locator("#vm-tabs").get_by_role("tab", name="NICs").click()
    add = page.locator("#nic-add-form")
    add.get_by_label("Connect to").select_option("network")
    add.get_by_label("Network (libvirt network)").select_option(network)
    add.get_by_label("Model").select_option("e1000e")
    add.get_by_label("MAC (empty: libvirt picks one)").fill("52:54:00:E2:E0:01")
    add.get_by_label("Live (now, in the running VM)").uncheck()
    add.get_by_role("button", name="Add NIC").click()
    nic = page.locator('#nic-table tr.nic-row[data-mac="52:54:00:e2:e0:01"]')
    expect(nic).to_contain_text(network, timeout=30_000)
    expect(nic).to_contain_text("e1000e")
    expect(nic.locator(".nic-note")).to_have_text("from next start")
    _succeeded(page, "vm.nic_add", vm.name)

    page.locator('select[name="scope"]').select_option("config")
    tab.accept_confirms = True  # Remove asks in the page first
    nic.get_by_role("button", name="Remove").click()
    expect(nic).to_have_count(0, timeout=30_000)
    _succeeded(page, "vm.nic_remove", vm.name)

    assert page.evaluate("window.__marker") == 1, "the VM page reloaded; the tabs should update in place"
    tab.assert_quiet()
    for action in ("vm.disk_new", "vm.nic_add", "vm.nic_remove"):
        outcomes = set(AuditEvent.objects.filter(action=action, target_name=vm.name).values_list("outcome", flat=True))
        assert outcomes == {"requested", "succeeded"}, (action, outcomes)
