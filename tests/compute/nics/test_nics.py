"""NICs on the test driver, as services and through the tab: bad input changes nothing, and the
driver's own refusal (it cannot hot-plug or update devices) ends the operation failed with its
words. Adding, removing and link changes that work are shown on QEMU in tests/real/test_qemu_nics.py."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.compute.services import nics as nic_services
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Interface
from apps.compute.virt.xml.devices import NicError
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.helpers import created_domains, unique

pytestmark = pytest.mark.django_db
MAC = "52:54:00:aa:bb:01"


@pytest.fixture
def vm(demo_host, test_driver):
    """A running test-driver VM with one NIC on the network "default" and one on a bridge."""
    spec = Domain(
        name=unique("nic"),
        memory_mib=64,
        domain_type="test",
        disks=[Disk(source="/var/lib/libvirt/images/nic.qcow2")],
        interfaces=[Interface(mac=MAC), Interface(kind="bridge", source="br0", model="e1000e", link="down")],
    )
    uuid = domains.define(test_driver, spec.to_xml())
    created_domains.append(uuid)
    domains.power(test_driver, uuid, "start")
    return vm_inventory_apply(host=demo_host, uuid=uuid, info=domains.domain_info(test_driver, uuid))


@pytest.mark.parametrize(
    "kw, says",
    [
        ({"mac": "01:00:5e:00:00:01"}, "multicast"),
        ({"mac": "nope"}, "not a MAC"),
        ({"model": "ne2k"}, "Unknown NIC model"),
        ({"kind": "direct", "source": "eth0", "mode": "vpa"}, "Unknown macvtap mode"),
        ({"kind": "bridge", "source": "my bridge"}, "not a valid bridge name"),
        ({"kind": "ovs", "source": "br/0"}, "not a valid bridge name"),
        ({"kind": "token-ring"}, "Unknown NIC type"),
        ({"live": False, "config": False}, "live, config or both"),
    ],
)
def test_bad_nic_input_is_refused_before_anything_is_queued(operator, vm, kw, says):
    args = {"kind": "network", "source": "default"} | kw
    with pytest.raises(ValueError, match=says):
        nic_services.vm_nic_add(actor=operator, vm=vm, **args)
    assert not Operation.objects.exists()


def test_only_vm_editors_may_change_nics(viewer, vm):
    with pytest.raises(PermissionDenied):
        nic_services.vm_nic_add(actor=viewer, vm=vm, kind="network", source="default")
    with pytest.raises(PermissionDenied):
        nic_services.vm_nic_link(actor=viewer, vm=vm, mac=MAC, state="down")
    assert not Operation.objects.exists()


def test_remove_and_link_need_a_mac_and_a_state(operator, vm):
    with pytest.raises(NicError, match="give its MAC"):
        nic_services.vm_nic_remove(actor=operator, vm=vm, mac="")
    with pytest.raises(NicError, match="up or down"):
        nic_services.vm_nic_link(actor=operator, vm=vm, mac=MAC, state="off")


def test_the_drivers_refusal_fails_the_operation_with_its_words(operator, vm):
    op = nic_services.vm_nic_add(actor=operator, vm=vm, kind="bridge", source="br1", live=False, config=True)
    assert op.params == {
        "kind": "bridge",
        "source": "br1",
        "model": "virtio",
        "mac": None,
        "mode": None,
        "live": False,
        "config": True,
    }
    op = operation_run(op.pk)
    assert op.status == "failed" and "not supported" in op.error
    op = operation_run(
        nic_services.vm_nic_link(actor=operator, vm=vm, mac="52:54:00:00:00:99", state="down").pk)
    assert op.status == "failed" and "no NIC with MAC 52:54:00:00:00:99" in op.error


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_tab_lists_nics_with_source_model_mac_and_link(operator, viewer, vm):
    page = _client(operator).get(reverse("compute:vm_nics", args=[vm.pk])).content.decode()
    assert f'data-mac="{MAC}"' in page and "Add a NIC" in page
    assert "br0" in page and "e1000e" in page and ">down<" in page and "Link up" in page
    assert '<option value="default"' in page  # the test driver's libvirt network, for the select
    page = _client(viewer).get(reverse("compute:vm_nics", args=[vm.pk])).content.decode()
    assert f'data-mac="{MAC}"' in page and "Add a NIC" not in page and "Remove" not in page


def test_bad_add_answers_with_the_reason_by_the_form(operator, vm):
    c = _client(operator)
    url = reverse("compute:vm_nic_add", args=[vm.pk])
    data = {"kind": "bridge", "source": "br0", "model": "virtio", "mac": "03:00:00:00:00:01", "config": "on"}
    response = c.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "multicast address" in body and 'value="03:00:00:00:00:01"' in body
    assert f'hx-get="{reverse("compute:vm_nics", args=[vm.pk])}"' in body
    assert c.post(url, data).status_code == 400
    assert not Operation.objects.exists()
    data["mac"] = ""
    assert "Queued (vm.nic_add)" in c.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    response = c.post(reverse("compute:vm_nic_link", args=[vm.pk]), {"mac": MAC, "state": "down", "scope": "both"})
    assert response.status_code == 302
    assert list(Operation.objects.values_list("kind", flat=True).order_by("pk")) == ["vm.nic_add", "vm.nic_link"]
