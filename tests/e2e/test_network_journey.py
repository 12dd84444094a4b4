"""A network's life in Chromium on the real libvirtd, as one person would live it: create an isolated
network with a DHCP range, see it start, put a NIC of a VM on it and watch the attached count in the
list and the wiring diagram change without a reload, add a static DHCP host, stop and start the
network, delete it."""

import re

import pytest
from playwright.sync_api import expect

from apps.compute.models import VirtualMachine
from apps.hosts.services import host_create
from apps.network.models import VirtualNetwork
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local(stack, qemu_conn, tiny_domain):
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    name, _uuid = tiny_domain
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name).first(), timeout=30, message="the VM")
    made = []
    yield host, vm, made
    for net_name in made:  # what a failed run left behind
        try:
            net = qemu_conn.networkLookupByName(net_name)
        except Exception:  # noqa: BLE001 — gone, as it should be
            continue
        if net.isActive():
            net.destroy()
        net.undefine()


def _succeeded(page, kind, name):
    op = page.locator(f'#ops-list li.op[data-kind="{kind}"]').filter(has_text=name).first
    expect(op.locator(".op-status")).to_have_text("succeeded", timeout=60_000)


def test_create_attach_watch_static_host_stop_delete(local, admin, open_tab):
    host, vm, made = local
    tag = unique("")[1:7]
    name = f"kvmweb-test-{tag}"
    made.append(name)
    tab = open_tab(admin)
    page = tab.page

    # Create: the isolated form with a subnet and a DHCP range; it is started when defined.
    tab.goto(f"/networks/new/isolated/?host={host.pk}")
    form = page.locator("#network-create-form")
    form.get_by_label(re.compile(r"^Name\b")).fill(name)
    form.get_by_label(re.compile(r"^Bridge name\b")).fill(f"kvnet{tag}")
    form.get_by_label(re.compile(r"^IPv4 address\b")).fill("10.204.99.1")
    form.get_by_label(re.compile(r"^IPv4 prefix\b")).fill("24")
    form.get_by_label(re.compile(r"^DHCP range start\b")).fill("10.204.99.100")
    form.get_by_label(re.compile(r"^DHCP range end\b")).fill("10.204.99.150")
    form.get_by_role("button", name="Create network").click()
    tab.wait_live()
    _succeeded(page, "network.create", name)
    row = page.locator("#network-table tr.network-row").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row.locator(".network-state")).to_have_text("active")
    expect(row.locator(".network-attached")).to_have_text("0")
    net = VirtualNetwork.objects.get(host=host, name=name, present=True)

    # The list in a second tab and the wiring diagram in a third follow what happens next.
    listing = open_tab(admin)
    listing.goto("/networks/")
    listing.wait_live()
    listed = listing.page.locator("#network-table tr.network-row").filter(
        has=listing.page.get_by_role("link", name=name, exact=True)
    )
    expect(listed.locator(".network-attached")).to_have_text("0")

    wiring = open_tab(admin)
    wiring.goto(f"/networks/hosts/{host.pk}/wiring/")
    wiring.wait_live()
    expect(wiring.page.locator(f'[data-node="network-{net.pk}"]')).to_be_visible()
    expect(wiring.page.locator(f'[data-node="vm-{vm.pk}"]')).to_have_count(0)  # no NIC: not on any wire

    # A NIC on it from the VM's NICs tab (saved configuration: the VM is off).
    page.goto(tab.base_url + f"/vms/{vm.pk}/?tab=nics")
    tab.wait_live()
    nic_form = page.locator("#nic-add-form")
    nic_form.get_by_label("Connect to").select_option("network")
    nic_form.get_by_label("Network (libvirt network)").select_option(name)
    nic_form.get_by_label("Live (now, in the running VM)").uncheck()
    nic_form.get_by_role("button", name="Add NIC").click()
    _succeeded(page, "vm.nic_add", vm.name)

    # Without a reload: the list counts the VM, and the VM and its NIC join the diagram.
    expect(listed.locator(".network-attached")).to_have_text("1")
    expect(wiring.page.locator(f'[data-node="vm-{vm.pk}"]')).to_have_count(1)
    expect(wiring.page.locator('[data-node^="nic-"]')).to_have_count(1)
    page.goto(tab.base_url + f"/networks/{net.pk}/")
    tab.wait_live()
    expect(page.locator(f"#network-summary-{net.pk} .network-attached")).to_have_text("1")
    expect(page.locator("#network-ports tr.port-row")).to_contain_text(vm.name)

    # A static DHCP host, live.
    dhcp = page.locator("#dhcp-host-form")
    dhcp.get_by_label("MAC address").fill("52:54:00:4e:10:01")
    dhcp.get_by_label("IP address").fill("10.204.99.20")
    dhcp.get_by_label("Host name").fill("fixed")
    dhcp.get_by_role("button", name="Add").click()
    _succeeded(page, "network.update", name)
    expect(page.locator('#network-static-hosts tr.static-host[data-mac="52:54:00:4e:10:01"]')).to_contain_text(
        "10.204.99.20"
    )

    # Stop (asks first), then delete (its page asks first): the VM is off, so nothing holds it.
    tab.accept_confirms = True
    page.locator(f"#network-summary-{net.pk}").get_by_role("button", name="Stop", exact=True).click()
    _succeeded(page, "network.stop", name)
    expect(page.locator(f"#network-summary-{net.pk} .network-state")).to_have_text("inactive")
    expect(listed.locator(".network-state")).to_have_text("inactive")
    # Started again from its page (no question: nothing is lost), then stopped for the delete.
    page.locator(f"#network-summary-{net.pk}").get_by_role("button", name="Start", exact=True).click()
    _succeeded(page, "network.start", name)
    expect(page.locator(f"#network-summary-{net.pk} .network-state")).to_have_text("active")
    expect(listed.locator(".network-state")).to_have_text("active")
    page.locator(f"#network-summary-{net.pk}").get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator(f"#network-summary-{net.pk} .network-state")).to_have_text("inactive")
    page.locator(f"#network-summary-{net.pk}").get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name=f"Delete {name}").click()
    _succeeded(page, "network.delete", name)
    expect(page.locator("#network-table").get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(wiring.page.locator(f'[data-node="network-{net.pk}"]')).to_have_count(0)
