"""The inventory keeps a VM's overview facts: state reason, since when, autostart, title,
description, OS variant — read on connect, on events and after our own work, not per tick."""

import subprocess
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import etree

from apps.audit.models import AuditEvent
from apps.compute import handlers
from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply, vm_inventory_fill_since
from apps.compute.virt import domains
from apps.compute.virt.xml import Domain, Interface
from apps.core.xml import sub
from apps.hosts.monitor import Monitor
from apps.hosts.services import host_create
from tests.helpers import TEST_URI, created_domains, unique, wait_for

OS_ID = "http://debian.org/debian/12"


def define_described(
    test_driver, name=None, *, title="Web front", description="Serves the shop.\nSecond line.", uuid=None
):
    """A test-driver domain with a title, a description and virt-install's libosinfo metadata."""
    spec = Domain(
        name=name or unique(),
        memory_mib=128,
        vcpus=2,
        domain_type="test",
        description=description,
        uuid=uuid,
        interfaces=[Interface(network="default", mac="52:54:00:0a:0b:0c")],
    )
    root = spec.to_element()
    sub(root, "title", title)
    meta = sub(root, "metadata")
    info = etree.SubElement(meta, f"{{{domains.LIBOSINFO_NS}}}libosinfo", nsmap={"libosinfo": domains.LIBOSINFO_NS})
    etree.SubElement(info, f"{{{domains.LIBOSINFO_NS}}}os", id=OS_ID)
    dom_uuid = domains.define(test_driver, etree.tostring(root, encoding="unicode"))
    created_domains.append(dom_uuid)
    return dom_uuid


def virsh(*args):
    return subprocess.run(["virsh", "-c", TEST_URI, *args], capture_output=True, text=True, check=True).stdout


def test_domain_info_reads_the_configuration(test_driver):
    dom_uuid = define_described(test_driver)
    info = domains.domain_info(test_driver, dom_uuid)
    assert (info.title, info.description, info.os_variant) == ("Web front", "Serves the shop.\nSecond line.", OS_ID)
    assert info.autostart is False and info.persistent is True
    assert (info.state, info.state_reason) == ("shutoff", "unknown")


def test_the_tick_listing_carries_no_configuration_but_the_connect_listing_does(test_driver):
    dom_uuid = define_described(test_driver)
    tick = {i.uuid: i for i in domains.list_domains(test_driver)}[dom_uuid]
    assert tick.title is None and tick.autostart is None and tick.state == "shutoff"
    full = {i.uuid: i for i in domains.list_domains(test_driver, config=True)}[dom_uuid]
    assert full.title == "Web front" and full.os_variant == OS_ID and full.autostart is False


def test_connect_fills_the_rows_and_the_tick_does_not_blank_them(demo_host, test_driver):
    dom_uuid = define_described(test_driver)
    handlers.first_sync(demo_host, test_driver)
    vm = VirtualMachine.objects.get(host=demo_host, uuid=dom_uuid)
    assert (vm.title, vm.os_variant, vm.vcpus) == ("Web front", OS_ID, 2)
    handlers.sync_all(demo_host, test_driver)
    vm.refresh_from_db()
    assert vm.title == "Web front" and vm.description.startswith("Serves")


def test_a_domain_first_seen_by_a_tick_gets_its_configuration(demo_host, test_driver):
    handlers.first_sync(demo_host, test_driver)
    dom_uuid = define_described(test_driver, title="Found on a tick")
    handlers.sync_all(demo_host, test_driver)
    assert VirtualMachine.objects.get(host=demo_host, uuid=dom_uuid).title == "Found on a tick"


def test_autostart_set_outside_with_virsh_reaches_the_row(demo_host, test_driver):
    name = unique()
    dom_uuid = define_described(test_driver, name)
    handlers.first_sync(demo_host, test_driver)
    assert VirtualMachine.objects.get(uuid=dom_uuid).autostart is False
    virsh("autostart", name)
    handlers.sync_all(demo_host, test_driver)  # the per-tick listing does not look at autostart …
    assert VirtualMachine.objects.get(uuid=dom_uuid).autostart is False
    handlers.sync_autostart(demo_host, test_driver)  # … the slower resync does, in one call
    assert VirtualMachine.objects.get(uuid=dom_uuid).autostart is True
    virsh("autostart", "--disable", name)
    handlers.sync_autostart(demo_host, test_driver)
    assert VirtualMachine.objects.get(uuid=dom_uuid).autostart is False


def test_state_reason_and_since_follow_the_state(demo_host, test_driver):
    dom_uuid = define_described(test_driver)
    handlers.first_sync(demo_host, test_driver)
    vm = VirtualMachine.objects.get(uuid=dom_uuid)
    assert vm.state_since is None  # found shut off: since when is not known

    def apply():
        return vm_inventory_apply(host=demo_host, uuid=dom_uuid, info=domains.domain_info(test_driver, dom_uuid))

    before = timezone.now()
    domains.power(test_driver, dom_uuid, "start")
    vm = apply()
    assert (vm.state, vm.state_reason) == ("running", "booted")
    started = VirtualMachine.objects.get(pk=vm.pk).state_since
    assert before <= started <= timezone.now()

    apply()  # nothing changed: the time stays
    assert VirtualMachine.objects.get(pk=vm.pk).state_since == started

    domains.power(test_driver, dom_uuid, "suspend")
    vm = apply()
    assert (vm.state, vm.state_reason) == ("paused", "user")
    assert VirtualMachine.objects.get(pk=vm.pk).state_since > started

    domains.power(test_driver, dom_uuid, "resume")
    assert apply().state_reason == "unpaused"
    domains.power(test_driver, dom_uuid, "destroy")
    vm = apply()
    assert (vm.state, vm.state_reason) == ("shutoff", "destroyed")


def test_a_running_domain_found_first_takes_its_process_start_time(demo_host, test_driver):
    dom_uuid = define_described(test_driver)
    domains.power(test_driver, dom_uuid, "start")
    long_ago = timezone.now() - timedelta(hours=3)
    handlers.first_sync(demo_host, test_driver)
    # The test driver has no process: the start stays unknown rather than guessed …
    assert VirtualMachine.objects.get(uuid=dom_uuid).state_since is None
    # … and where a host can tell (the local QEMU host), that time is used.
    vm_inventory_fill_since(host=demo_host, started=lambda name: long_ago)
    assert VirtualMachine.objects.get(uuid=dom_uuid).state_since == long_ago


def test_a_stop_whose_domain_is_already_undefined_is_still_recorded(demo_host, test_driver):
    dom_uuid = define_described(test_driver)
    domains.power(test_driver, dom_uuid, "start")
    handlers.first_sync(demo_host, test_driver)
    domains.power(test_driver, dom_uuid, "suspend")
    domains.undefine(test_driver, dom_uuid)  # destroy + undefine before the monitor looks
    suspended = 3  # VIR_DOMAIN_EVENT_SUSPENDED, queued before the stop
    handlers.domain_changed(demo_host, test_driver, {"uuid": dom_uuid, "event": suspended, "detail": 0})
    assert VirtualMachine.objects.get(uuid=dom_uuid).present, "an older event does not decide the removal"
    destroyed = {v: k for k, v in domains.STOPPED_REASONS.items()}["destroyed"]
    handlers.domain_changed(
        demo_host, test_driver, {"uuid": dom_uuid, "event": domains.EVENT_STOPPED, "detail": destroyed}
    )
    vm = VirtualMachine.objects.get(uuid=dom_uuid)
    assert (vm.state, vm.state_reason, vm.present) == ("shutoff", "destroyed", False)
    actions = list(AuditEvent.objects.filter(target_id=str(vm.pk)).order_by("id").values_list("action", flat=True))
    assert actions == ["vm.state_outside", "vm.removed_outside"]


@pytest.fixture
def monitor(transactional_db, test_driver):
    m = Monitor(tick=0.3, reconnect_max=1.0)
    thread = threading.Thread(target=m.run, daemon=True)
    thread.start()
    yield m
    m.stop()
    thread.join(timeout=10)


def test_the_monitor_follows_a_redefinition_and_state_changes(monitor, test_driver):
    host = host_create(actor=None, name="demo", uri=TEST_URI)
    name = unique()
    dom_uuid = define_described(test_driver, name)
    row = lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid).first()  # noqa: E731
    wait_for(lambda: row() and row().title == "Web front", message="row with its title")
    assert row().os_variant == OS_ID

    define_described(
        test_driver, name, title="Renamed front", description="New words.", uuid=dom_uuid
    )  # a DEFINED event
    wait_for(lambda: row().title == "Renamed front", message="the new title")
    assert row().description == "New words."

    domains.power(test_driver, dom_uuid, "start")
    wait_for(lambda: row().state == "running" and row().state_since, message="running, with since")
    assert row().state_reason == "booted"
    first = row().state_since
    domains.power(test_driver, dom_uuid, "suspend")
    wait_for(lambda: row().state == "paused", message="paused")
    assert row().state_reason == "user" and row().state_since > first


def test_a_metadata_change_event_rereads_title_and_description(demo_host, test_driver):
    name = unique()
    dom_uuid = define_described(test_driver, name)
    handlers.first_sync(demo_host, test_driver)
    virsh("desc", name, "--config", "--title", "--new-desc", "Set with virsh")
    virsh("desc", name, "--config", "--new-desc", "Described with virsh")
    handlers.domain_changed(demo_host, test_driver, {"uuid": dom_uuid, "event": "metadata", "detail": None})
    vm = VirtualMachine.objects.get(uuid=dom_uuid)
    assert (vm.title, vm.description) == ("Set with virsh", "Described with virsh")
