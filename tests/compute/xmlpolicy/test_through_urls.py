"""The XML policy where a browser and the worker meet it: the XML tab's save and define-from-XML
show the refusal on the form and queue nothing; what reaches the queue some other way, or was
allowed when queued and no longer is, is refused again by the worker."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from lxml import etree

from apps.authz.models import Grant
from apps.compute.services import xmledit as xml_services
from apps.compute.services.create import vm_define_xml
from apps.compute.virt import xmledit
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.helpers import TEST_URI, make_vm, unique

from .conftest import domain

pytestmark = pytest.mark.django_db

NBD = (
    "<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd'>"
    "<host name='127.0.0.1' port='6379'/></source><target dev='vdy' bus='virtio'/></disk>"
)
TCP_SERIAL = (
    "<serial type='tcp'><source mode='connect' host='127.0.0.1' service='6379'/><protocol type='raw'/>"
    "<target port='3'/></serial>"
)
HOSTDEV_NIC = (
    "<interface type='hostdev' managed='yes'><source><address type='pci' domain='0x0000' bus='0x03' "
    "slot='0x00' function='0x1'/></source></interface>"
)


@pytest.fixture
def queue_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _with_device(vm, device):
    root = etree.fromstring(xmledit.read(connection.get(vm.host.uri), str(vm.uuid)))
    root.find("devices").append(etree.fromstring(device))
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize(
    ("device", "message"),
    [
        (NBD, "<disk type='network'> (nbd 127.0.0.1:6379) needs the right to manage host demo."),
        (TCP_SERIAL, "<serial type='tcp'> (127.0.0.1:6379) needs the right to manage host demo."),
        (HOSTDEV_NIC, "<interface type='hostdev'> needs the right to manage host demo."),
    ],
    ids=["nbd-disk", "tcp-serial", "hostdev-nic"],
)
def test_the_xml_tab_shows_the_refusal_and_queues_nothing(device, message, demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    response = _client(operator).post(
        reverse("compute:vm_xml_save", args=[vm.pk]), {"xml": _with_device(vm, device)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"devices": HOSTDEV_NIC}, "<interface type='hostdev'> needs the right to manage host demo."),
        (
            {"os": "<nvram>/var/lib/libvirt/qemu/nvram/other_VARS.fd</nvram>"},
            "<os><nvram> must be /var/lib/libvirt/qemu/nvram/{name}_VARS.fd: a VM's UEFI variables are kept in the "
            "file named after it, not /var/lib/libvirt/qemu/nvram/other_VARS.fd.",
        ),
        (
            {"devices": "<disk type='volume'><source pool='team-b' volume='b.qcow2'/><target dev='vdb'/></disk>"},
            "<disk type='volume'>: team-b/b.qcow2 is not a volume of a pool you may use on demo.",
        ),
    ],
    ids=["hostdev-nic", "another-vms-nvram", "another-teams-volume"],
)
def test_define_from_xml_shows_the_refusal_and_queues_nothing(parts, message, demo_host, team_user, queue_only):
    name = unique("defined")
    xml = etree.tostring(domain(name=name, **parts), encoding="unicode")
    response = _client(team_user).post(
        reverse("compute:vm_define_xml"), {"host": demo_host.pk, "xml": xml}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert escape(message.format(name=name)) in response.content.decode()
    assert not Operation.objects.exists()


def test_the_worker_refuses_a_definition_that_reached_the_queue_without_the_form(demo_host, operator, queue_only):
    name = unique("defined")
    xml = etree.tostring(domain(TCP_SERIAL, name=name), encoding="unicode")
    op = operation_run(vm_define_xml(actor=operator, host=demo_host, xml=xml, name=name, vcpus=1, memory_mib=64).pk)
    assert op.status == "failed"
    assert op.error == "<serial type='tcp'> (127.0.0.1:6379) needs the right to manage host demo."
    assert name not in connection.get(TEST_URI).listDefinedDomains()


def test_the_worker_refuses_an_edit_whose_right_was_revoked_after_it_was_queued(demo_host, team_user, queue_only):
    vm = make_vm(demo_host)
    disk = "<disk type='volume'><source pool='team-a' volume='a.qcow2'/><target dev='vdx' bus='virtio'/></disk>"
    op = xml_services.vm_xml_edit(actor=team_user, vm=vm, xml=_with_device(vm, disk))
    Grant.objects.filter(user=team_user, role__name="Pool user").delete()
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert op.error == "<disk type='volume'>: team-a/a.qcow2 is not a volume of a pool you may use on demo."
    assert "a.qcow2" not in xmledit.read(connection.get(vm.host.uri), str(vm.uuid))
