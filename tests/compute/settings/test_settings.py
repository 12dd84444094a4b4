"""Settings on the test driver: vCPUs, memory (live and saved), autostart, boot order and menu, title
and description; bad input, host limits and team quotas; the tab."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from lxml import etree

from apps.accounts.services import team_create
from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import settings as services
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains, xmledit
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.conftest import PASSWORD
from tests.helpers import make_vm


@pytest.fixture
def queue_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def form(vm, **changes):
    """The form as the tab fills it for this VM, with some fields changed."""
    current = services.read(vm)
    values = {
        "vcpus": current.live_vcpus if current.running else current.vcpus,
        "max_vcpus": current.max_vcpus,
        "memory_mib": (current.live_memory_kib if current.running else current.memory_kib) // 1024,
        "max_memory_mib": current.max_memory_kib // 1024,
        "autostart": current.autostart,
        "boot": current.boot,
        "bootmenu": current.bootmenu,
        "title": current.title,
        "description": current.description,
    }
    return values | changes


def change(actor, vm, **changes):
    op = services.vm_settings_change(actor=actor, vm=vm, **form(vm, **changes))
    return operation_run(op.pk)


def test_a_shut_off_vm_takes_every_change_from_its_next_start(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    op = change(
        operator,
        vm,
        vcpus=2,
        max_vcpus=4,
        memory_mib=384,
        max_memory_mib=512,
        autostart=True,
        boot=["cdrom", "hd"],
        bootmenu=True,
        title="Web server",
        description="front <end> & friends",
    )
    assert op.status == "succeeded", op.error
    assert "vCPUs 1 → 2 from the next start" in op.message
    assert "maximum vCPUs 1 → 4 from the next boot" in op.message
    assert "memory 256 → 384 MiB from the next start" in op.message
    assert "boot order cdrom, hd, boot menu on" in op.message and "autostart on" in op.message
    now = services.read(vm)
    assert (now.vcpus, now.max_vcpus, now.memory_kib, now.max_memory_kib) == (2, 4, 384 * 1024, 512 * 1024)
    assert (now.autostart, now.boot, now.bootmenu) == (True, ["cdrom", "hd"], True)
    assert (now.title, now.description) == ("Web server", "front <end> & friends")
    vm.refresh_from_db()
    assert (vm.vcpus, vm.max_memory_kib, vm.autostart, vm.title) == (2, 512 * 1024, True, "Web server")
    requested = AuditEvent.objects.get(action="vm.settings", outcome="requested")
    assert requested.params["changes"]["vcpus"] == {"before": 1, "after": 2}
    assert AuditEvent.objects.filter(action="vm.settings", outcome="succeeded").exists()


def test_a_running_vm_changes_live_within_its_maximum_and_says_so(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    assert change(operator, vm, max_vcpus=4, max_memory_mib=512).status == "succeeded"
    domains.power(connection.get(demo_host.uri), str(vm.uuid), "start")
    op = change(operator, vm, vcpus=3, memory_mib=200)
    assert op.status == "succeeded", op.error
    assert "vCPUs 1 → 3 now" in op.message and "memory 256 → 200 MiB now" in op.message
    now = services.read(vm)
    assert (now.live_vcpus, now.vcpus, now.live_memory_kib) == (3, 3, 200 * 1024)
    # Beyond the live maximum: saved for the next boot, and the message says that instead.
    op = change(operator, vm, vcpus=5, max_vcpus=6)
    assert op.status == "succeeded", op.error
    assert "vCPUs 3 → 5 from the next boot" in op.message and "maximum vCPUs 4 → 6 from the next boot" in op.message
    now = services.read(vm)
    assert (now.live_vcpus, now.vcpus, now.max_vcpus) == (3, 5, 6)


def test_title_and_description_reach_the_running_vm_too(demo_host, operator, queue_only):
    vm = make_vm(demo_host, start=True)
    op = change(operator, vm, title="T1", description="")
    assert op.status == "succeeded", op.error
    live = etree.fromstring(xmledit.read(connection.get(demo_host.uri), str(vm.uuid), live=True))
    assert live.findtext("title") == "T1" and services.read(vm).title == "T1"


def test_per_device_boot_order_is_replaced_and_the_vnc_password_kept(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    conn = connection.get(demo_host.uri)
    root = etree.fromstring(xmledit.secure_inactive(conn, str(vm.uuid)))
    for el in root.findall("os/boot"):
        el.getparent().remove(el)
    etree.SubElement(root.find("devices/disk"), "boot", order="1")
    etree.SubElement(root.find("devices"), "graphics", type="vnc", passwd="s3cret")
    conn.defineXML(etree.tostring(root, encoding="unicode"))
    assert services.read(vm).device_boot_order
    op = change(operator, vm, boot=["network"])
    assert op.status == "succeeded", op.error
    assert "per-device boot order replaced" in op.message
    saved = etree.fromstring(xmledit.secure_inactive(conn, str(vm.uuid)))
    assert [b.get("dev") for b in saved.findall("os/boot")] == ["network"]
    assert saved.find("devices/disk/boot") is None
    assert saved.find("devices/graphics").get("passwd") == "s3cret"


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"vcpus": 0}, "vcpus", "at least 1"),
        ({"vcpus": "two"}, "vcpus", "whole number"),
        ({"vcpus": "1.5"}, "vcpus", "whole number"),
        ({"vcpus": ""}, "vcpus", "whole number"),
        ({"vcpus": 33, "max_vcpus": 33}, "vcpus", "At most 32 vCPUs"),
        ({"max_vcpus": 100}, "max_vcpus", "At most 32 vCPUs"),
        ({"vcpus": 3, "max_vcpus": 2}, "vcpus", "cannot be more than the maximum"),
        ({"memory_mib": 0}, "memory_mib", "at least 1"),
        ({"memory_mib": 8}, "memory_mib", "at least 16 MiB"),
        ({"memory_mib": 512}, "memory_mib", "cannot be more than the maximum"),
        ({"boot": ["hd", "floppy"]}, "boot", "Unknown boot device 'floppy'"),
        ({"boot": ["hd", "hd"]}, "boot", "once"),
        ({"boot": ["", ""]}, "boot", "at least one"),
        ({"title": "two\nlines"}, "title", "one line"),
        ({}, None, "Nothing changed"),
    ],
)
def test_bad_input_is_refused_by_the_field_and_nothing_is_queued(demo_host, operator, changes, field, words):
    vm = make_vm(demo_host)
    with pytest.raises(services.SettingsError) as info:
        services.vm_settings_change(actor=operator, vm=vm, **form(vm, **changes))
    assert words in str(info.value) and info.value.field == field
    assert not Operation.objects.exists()


def big_vm(host, memory_mib=8192, vcpus=1):
    """A VM with more memory than the test driver's host reports (3072 MiB), as db-replica had."""
    vm = make_vm(host)
    conn = connection.get(host.uri)
    root = etree.fromstring(xmledit.secure_inactive(conn, str(vm.uuid)))
    root.find("memory").text = root.find("currentMemory").text = str(memory_mib * 1024)
    for el in (root.find("memory"), root.find("currentMemory")):
        el.set("unit", "KiB")
    root.find("vcpu").text = str(vcpus)
    conn.defineXML(etree.tostring(root, encoding="unicode"))
    return vm_inventory_apply(host=host, uuid=str(vm.uuid), info=domains.domain_info(conn, str(vm.uuid)))


def test_a_vm_over_the_hosts_memory_takes_a_decrease_and_a_title_change(demo_host, operator, queue_only):
    vm = big_vm(demo_host)
    assert services.read(vm).host_memory_kib == 3072 * 1024  # the host reports less than the VM has
    op = change(operator, vm, title="db-replica")
    assert op.status == "succeeded", op.error
    assert op.params["changes"] == {"title": {"before": "", "after": "db-replica"}}
    op = change(operator, vm, memory_mib=6144)
    assert op.status == "succeeded", op.error
    assert "memory 8192 → 6144 MiB from the next start" in op.message
    assert services.read(vm).memory_kib == 6144 * 1024


def test_more_than_the_host_has_is_an_overcommit_not_a_refusal(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    op = change(operator, vm, vcpus=20, max_vcpus=20, memory_mib=4096, max_memory_mib=4096)
    assert op.status == "succeeded", op.error
    now = services.read(vm)
    assert (now.vcpus, now.memory_kib) == (20, 4096 * 1024)


def test_a_value_left_as_it_is_is_not_judged_again(demo_host, operator, queue_only):
    # 40 vCPUs is past what the hypervisor allows (32), yet the VM has them: changing the title,
    # or lowering them to 36, is not refused; raising them is.
    vm = big_vm(demo_host, memory_mib=256, vcpus=40)
    assert services.read(vm).vcpus == 40
    services.vm_settings_change(actor=operator, vm=vm, **form(vm, title="many"))
    services.vm_settings_change(actor=operator, vm=vm, **form(vm, vcpus=36, max_vcpus=36))
    with pytest.raises(services.SettingsError, match="At most 32 vCPUs"):
        services.vm_settings_change(actor=operator, vm=vm, **form(vm, vcpus=41, max_vcpus=41))


def test_growing_past_the_team_quota_is_refused(demo_host, operator):
    team = team_create(actor=None, name="blue", max_vcpus=2, max_memory_mib=300)
    vm = make_vm(demo_host)
    VirtualMachine.objects.filter(pk=vm.pk).update(team=team)
    vm.refresh_from_db()
    with pytest.raises(services.SettingsError, match="over its quota of 2"):
        services.vm_settings_change(actor=operator, vm=vm, **form(vm, vcpus=3, max_vcpus=3))
    with pytest.raises(services.SettingsError, match="MiB of memory"):
        services.vm_settings_change(actor=operator, vm=vm, **form(vm, max_memory_mib=512))
    assert not Operation.objects.exists()
    # Within the quota (and shrinking never counts against it) it goes through.
    services.vm_settings_change(actor=operator, vm=vm, **form(vm, vcpus=2, max_vcpus=2, memory_mib=128))


def test_viewer_may_not_change_settings(demo_host, viewer):
    vm = make_vm(demo_host)
    with pytest.raises(PermissionDenied):
        services.vm_settings_change(actor=viewer, vm=vm, **form(vm, title="x"))


# -- the tab -------------------------------------------------------------------------------------


def test_tab_says_what_applies_when_and_keeps_bad_input(client, demo_host, operator, queue_only):
    vm = make_vm(demo_host, start=True)
    client.login(username=operator.username, password=PASSWORD)
    html = client.get(reverse("compute:vm_settings", args=[vm.pk])).content.decode()
    assert "The VM is running: vCPUs up to 1 and memory up to 256 MiB change now" in html
    assert 'name="vcpus" id="set-vcpus" value="1"' in html
    assert "has 16 CPUs and 3072 MiB" in html and "up to 32 vCPUs" in html and "Overcommit" not in html
    url = reverse("compute:vm_settings_save", args=[vm.pk])
    post = {"vcpus": "0", "max_vcpus": "1", "memory_mib": "256", "max_memory_mib": "256", "boot0": "hd"}
    response = client.post(url, post | {"title": "kept"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "vCPUs must be at least 1" in html and 'value="kept"' in html
    assert not Operation.objects.exists()
    response = client.post(url, post | {"vcpus": "1", "autostart": "on"}, HTTP_HX_REQUEST="true")
    assert "Saving as operation" in response.content.decode()
    op = Operation.objects.get(kind="vm.settings")
    assert op.params["changes"] == {"autostart": {"before": False, "after": True}}


def test_tab_warns_of_an_overcommit_with_the_hosts_figures(client, demo_host, operator, queue_only):
    vm = big_vm(demo_host)
    client.login(username=operator.username, password=PASSWORD)
    html = client.get(reverse("compute:vm_settings", args=[vm.pk])).content.decode()
    assert f"may use up to 8192 MiB of memory, and host {demo_host.name} has 3072 MiB" in html
    url = reverse("compute:vm_settings_save", args=[vm.pk])
    post = {"vcpus": "24", "max_vcpus": "24", "memory_mib": "2048", "max_memory_mib": "2048", "boot0": "hd"}
    html = client.post(url, post, HTTP_HX_REQUEST="true").content.decode()
    assert "Saving as operation" in html and "MiB of memory, and host" not in html
    assert f"may use up to 24 vCPUs, and host {demo_host.name} has 16 CPUs" in html
