"""The Overview tab against the test driver: what a user reads there about a VM."""

import re

from django.urls import reverse
from django.utils import timezone

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains
from tests.compute.overview.test_inventory_overview import OS_ID, define_described
from tests.conftest import PASSWORD


def _vm(host, conn, *, start=False):
    dom_uuid = define_described(conn)
    if start:
        domains.power(conn, dom_uuid, "start")
    return vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(conn, dom_uuid))


def _tab(client, user, vm):
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse("compute:vm_overview", args=[vm.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_running_vm_shows_reason_uptime_sizes_metadata_and_agent_addresses(client, demo_host, test_driver, viewer):
    vm = _vm(demo_host, test_driver, start=True)
    body = _tab(client, viewer, vm)
    assert 'data-tab="overview"' in body and "<html" not in body
    assert "running</span> <span" in body and "(booted)" in body
    assert "Running since" in body and "(up 0" in body
    assert "128 MiB current / 128 MiB max" in body and 'id="vm-vcpus">2<' in body
    assert OS_ID in body and "Web front" in body and "Serves the shop.<br>Second line." in body
    assert 'id="vm-autostart">no<' in body
    # The test driver's fake guest agent answers; the page says the addresses came from it.
    assert "from the QEMU guest agent" in body
    assert re.search(r"<code>\d+\.\d+\.\d+\.\d+/24</code> IPv4 on \w+ .*\(52:54:00:0a:0b:0c\)", body)


def test_a_shut_off_vm_found_so_says_unknown_since_and_no_addresses(client, demo_host, test_driver, viewer):
    vm = _vm(demo_host, test_driver)
    VirtualMachine.objects.filter(pk=vm.pk).update(state_since=None, autostart=True, title="", os_variant="")
    body = _tab(client, viewer, vm)
    assert "shut off" in body and "In this state since" in body and "unknown" in body
    assert "none while the VM is shut off" in body
    assert "yes, starts with the host" in body
    assert "not recorded in the domain's metadata" in body
    assert "Web front" not in body


def test_text_from_the_domain_is_escaped(client, demo_host, test_driver, viewer):
    vm = _vm(demo_host, test_driver)
    VirtualMachine.objects.filter(pk=vm.pk).update(
        description="<script>alert(1)</script> & co", state_since=timezone.now()
    )
    body = _tab(client, viewer, vm)
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body


def test_a_vm_on_a_down_host_says_why_there_are_no_addresses(client, demo_host, test_driver, viewer):
    vm = _vm(demo_host, test_driver, start=True)
    type(demo_host).objects.filter(pk=demo_host.pk).update(state="down")
    body = _tab(client, viewer, vm)
    assert "Cannot ask: host demo is down" in body
