"""A VM change announced while a tab's form is on its way is not lost when the form's answer (read
before the change) lands: the tab is re-read once htmx has taken that answer in.

This is the race behind a NIC row that stayed 30 s after "Remove" (issue 8): the worker's
"devices changed" marker arrived during the POST, the change waited for the request to end, and
the re-read was sent to the new tab before htmx had processed it (its settle step, ~20 ms later),
so nothing heard it. A configuration-only change moves no inventory field, so the monitor sends
nothing that would repair it.

Each test holds a form's POST, reads its answer from the server, makes the change outside the
page and sends the marker the worker sends (for real, through the channel layer), waits until the
page has it, and only then hands the answer to the page.
"""

import threading

import pytest
from lxml import etree
from playwright.sync_api import expect

from apps.compute.virt import domains
from apps.core import realtime
from apps.hosts.virt import connection
from tests.helpers import TEST_URI, wait_for

pytestmark = [pytest.mark.browser]


def _domain(vm):
    return domains.lookup(connection.get(TEST_URI), str(vm.uuid))


def _add_device(vm, device):
    """Save a device into the VM's definition on the test driver, as `virsh edit` would."""
    root = etree.fromstring(_domain(vm).XMLDesc(0))
    root.find("devices").append(device)
    domains.define(connection.get(TEST_URI), etree.tostring(root, encoding="unicode"))


def _disk(device, target, source=None):
    disk = etree.Element("disk", type="file", device=device)
    if source:
        etree.SubElement(disk, "source", file=source)
    etree.SubElement(disk, "target", dev=target, bus="sata" if device == "cdrom" else "virtio")
    return disk


def _snapshot(vm, name):
    root = etree.Element("domainsnapshot")
    etree.SubElement(root, "name").text = name
    _domain(vm).snapshotCreateXML(etree.tostring(root, encoding="unicode"))


def _changed_elsewhere(vm, change, what):
    """Change the VM outside the page (as a worker's runner does), then send the marker the runner
    publishes. In a thread: Playwright's loop owns this one, and async_to_sync refuses to run
    beside it."""

    def run():
        change()
        realtime.publish(realtime.host_group(vm.host_id), "vm", id=vm.pk, change=what)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def _open(open_tab, operator, vm, key):
    tab = open_tab(operator)
    tab.goto(f"/vms/{vm.pk}/?tab={key}")
    tab.wait_live()
    section = tab.page.locator(f'#vm-tab-{vm.pk}[data-tab="{key}"]')
    expect(section).to_be_visible()
    # The re-read that follows the socket's opening has landed: nothing is loading in the tab area.
    expect(tab.page.locator("#vm-tab-area .htmx-request")).to_have_count(0)
    return tab, section


def _post_across_a_change(page, vm, url, send, change, what):
    """Send a form (`send`) with its POST held; read the answer, make the change and get its marker
    into the page, then hand the answer over. Returns the answer's text."""
    held = []
    page.route(url, lambda route: held.append(route))
    send()
    wait_for(lambda: held or page.evaluate("0"), message="the form's post to leave")
    answer = held[0].fetch()
    _changed_elsewhere(vm, change, what)
    # The marker is in and htmx has handed it to kvmweb.js (the span loses htmx-added just before
    # its htmx:load), while the post is still on its way.
    expect(page.locator(f"#vm-signal-{vm.pk} .kv-vm-changed:not(.htmx-added)")).to_have_count(1)
    expect(page.locator("#vm-tab-area .htmx-request")).to_have_count(1)
    held[0].fulfill(response=answer)
    page.unroute(url)
    return answer.text()


def test_a_change_during_a_rows_form_is_read_after_its_answer_replaced_the_tab(
    transactional_db, stack, demo_host, operator, new_vm, open_tab
):
    """A row's form (CD-ROM "Insert", like the NIC's "Remove") answers with the whole tab. It has
    no id: htmx lends a swapped-in element the attributes of the old one with its id until the
    settle step, so a form with an id came back still marked as loading, which hid the race."""
    vm = new_vm(demo_host)
    _add_device(vm, _disk("cdrom", "sda"))  # an empty drive: its row has "Insert"
    tab, section = _open(open_tab, operator, vm, "disks")
    cdrom = section.locator('#disk-table tr.disk-row[data-target="sda"]')
    added = section.locator('#disk-table tr.disk-row[data-target="vdb"]')
    expect(cdrom).to_be_visible()
    expect(added).to_have_count(0)

    # "Insert" with an empty ISO library is refused: the answer is the tab again, with the reason.
    answer = _post_across_a_change(
        tab.page,
        vm,
        f"**/vms/{vm.pk}/disks/sda/insert/",
        lambda: cdrom.get_by_role("button", name="Insert").click(),
        lambda: _add_device(vm, _disk("disk", "vdb", f"/var/lib/libvirt/images/{vm.name}-b.qcow2")),
        "devices",
    )
    assert 'data-target="vdb"' not in answer, "the answer should be read before the disk is added"
    expect(added).to_contain_text(f"{vm.name}-b.qcow2")
    tab.assert_quiet()


def test_a_change_during_a_form_that_answers_with_itself_is_read_after_it(
    transactional_db, stack, demo_host, operator, new_vm, open_tab
):
    """The snapshot form answers with the form alone (the tab stays): the change that waited for it
    is read once that answer has settled."""
    vm = new_vm(demo_host)
    _snapshot(vm, "first")
    tab, section = _open(open_tab, operator, vm, "snapshots")
    expect(section.locator('tr.snapshot-row[data-name="first"]')).to_be_visible()
    taken_elsewhere = section.locator('tr.snapshot-row[data-name="elsewhere"]')
    expect(taken_elsewhere).to_have_count(0)

    # A name the VM already has is refused: the answer is the form, with the reason.
    form = section.locator("#snapshot-create-form")

    def send():
        form.get_by_label("Name").fill("first")
        form.get_by_role("button", name="Take snapshot").click()

    _post_across_a_change(
        tab.page,
        vm,
        f"**/vms/{vm.pk}/snapshots/create/",
        send,
        lambda: _snapshot(vm, "elsewhere"),
        "snapshots",
    )
    expect(taken_elsewhere).to_be_visible()
    tab.assert_quiet()
