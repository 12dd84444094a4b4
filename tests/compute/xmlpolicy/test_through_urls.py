"""The XML policy where a browser and the worker meet it: the XML tab's save and define-from-XML
show the refusal on the form and queue nothing; what reaches the queue some other way, or was
allowed when queued and no longer is, is refused again by the worker."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from lxml import etree

from apps.audit.models import AuditEvent
from apps.audit.present import sentence
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


def _denied(user):
    """The one "denied" audit record of `user`."""
    return AuditEvent.objects.get(actor=user, outcome="denied")


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
    # The audit log has the refusal too, naming the element and the right it needed.
    denied = _denied(operator)
    assert (denied.action, denied.target_type, denied.target_id) == ("auth.denied", "vm", str(vm.pk))
    assert denied.params == {"permission": "host.manage", "attempt": "vm.xml_edit"}
    assert denied.error == message
    assert sentence(denied) == f"was refused: edit the XML of VM {vm.name} (needs host.manage)"


@pytest.mark.parametrize(
    ("parts", "message", "needed"),
    [
        ({"devices": HOSTDEV_NIC}, "<interface type='hostdev'> needs the right to manage host demo.", "host.manage"),
        (
            {"os": "<nvram>/var/lib/libvirt/qemu/nvram/other_VARS.fd</nvram>"},
            "<os><nvram> must be /var/lib/libvirt/qemu/nvram/{name}_VARS.fd: a VM's UEFI variables are kept in the "
            "file named after it, not /var/lib/libvirt/qemu/nvram/other_VARS.fd.",
            "",  # no right allows it
        ),
        (
            {"devices": "<disk type='volume'><source pool='team-b' volume='b.qcow2'/><target dev='vdb'/></disk>"},
            "<disk type='volume'>: team-b/b.qcow2 is not a volume of a pool you may use on demo.",
            "storage.use",
        ),
    ],
    ids=["hostdev-nic", "another-vms-nvram", "another-teams-volume"],
)
def test_define_from_xml_shows_the_refusal_and_queues_nothing(
    parts, message, needed, demo_host, team_user, queue_only
):
    name = unique("defined")
    xml = etree.tostring(domain(name=name, **parts), encoding="unicode")
    response = _client(team_user).post(
        reverse("compute:vm_define_xml"), {"host": demo_host.pk, "xml": xml}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert escape(message.format(name=name)) in response.content.decode()
    assert not Operation.objects.exists()
    denied = _denied(team_user)
    assert (denied.action, denied.target_type, denied.target_name) == ("auth.denied", "vm", name)
    assert denied.params == {"permission": needed, "attempt": "vm.define"}
    assert denied.error == message.format(name=name)
    assert sentence(denied) == f"was refused: define from XML VM {name}" + (f" (needs {needed})" if needed else "")


def test_each_refused_element_is_its_own_denied_record(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    root = etree.fromstring(_with_device(vm, NBD))
    root.find("devices").append(etree.fromstring(TCP_SERIAL))
    _client(operator).post(
        reverse("compute:vm_xml_save", args=[vm.pk]), {"xml": etree.tostring(root, encoding="unicode")}
    )
    assert sorted(AuditEvent.objects.filter(actor=operator, outcome="denied").values_list("error", flat=True)) == [
        "<disk type='network'> (nbd 127.0.0.1:6379) needs the right to manage host demo.",
        "<serial type='tcp'> (127.0.0.1:6379) needs the right to manage host demo.",
    ]


def test_the_worker_refuses_a_definition_that_reached_the_queue_without_the_form(demo_host, operator, queue_only):
    name = unique("defined")
    xml = etree.tostring(domain(TCP_SERIAL, name=name), encoding="unicode")
    op = operation_run(vm_define_xml(actor=operator, host=demo_host, xml=xml, name=name, vcpus=1, memory_mib=64).pk)
    assert op.status == "failed"
    assert op.error == "<serial type='tcp'> (127.0.0.1:6379) needs the right to manage host demo."
    assert name not in connection.get(TEST_URI).listDefinedDomains()
    assert _denied(operator).error == op.error, "the worker's refusal is audited as the form's is"


def test_the_worker_refuses_an_edit_whose_right_was_revoked_after_it_was_queued(demo_host, team_user, queue_only):
    vm = make_vm(demo_host)
    disk = "<disk type='volume'><source pool='team-a' volume='a.qcow2'/><target dev='vdx' bus='virtio'/></disk>"
    op = xml_services.vm_xml_edit(actor=team_user, vm=vm, xml=_with_device(vm, disk))
    Grant.objects.filter(user=team_user, role__name="Pool user").delete()
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert op.error == "<disk type='volume'>: team-a/a.qcow2 is not a volume of a pool you may use on demo."
    assert "a.qcow2" not in xmledit.read(connection.get(vm.host.uri), str(vm.uuid))


# -- the submitted text holds a graphics password: it leaves the row however the edit ends -------

VNC = "<graphics type='vnc' port='-1' passwd='s3cr3t-vnc'/>"


def _failing_edit_with_password(vm):
    root = etree.fromstring(_with_device(vm, VNC))
    root.find("devices/disk/target").set("bus", "bogus")  # libvirt's schema refuses it on the worker
    return etree.tostring(root, encoding="unicode")


def test_an_edit_libvirt_refuses_keeps_no_password_in_its_operation(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    client = _client(operator)
    client.post(reverse("compute:vm_xml_save", args=[vm.pk]), {"xml": _failing_edit_with_password(vm)})
    op = Operation.objects.get(kind="vm.xml_edit")
    assert "s3cr3t-vnc" in op.params["xml"], "the worker needs it while queued"
    op = operation_run(op.pk)
    assert op.status == "failed" and "failed to validate against schema" in op.error
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)
    # The author still gets their text back beside libvirt's words, without the password (as the
    # tab shows every definition): sent again, it keeps the password the VM has.
    page = client.get(reverse("compute:vm_xml", args=[vm.pk]), {"op": op.pk}).content.decode()
    assert "libvirt refused the definition" in page and "bogus" in page and "s3cr3t-vnc" not in page
    assert "passwd" not in Operation.objects.get(pk=op.pk).params["xml"]


def test_an_edit_the_worker_refuses_before_running_keeps_no_password(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    _client(operator).post(reverse("compute:vm_xml_save", args=[vm.pk]), {"xml": _failing_edit_with_password(vm)})
    op = Operation.objects.get(kind="vm.xml_edit")
    operator.grants.all().delete()  # vm.edit revoked while it waited
    op = operation_run(op.pk)
    assert op.status == "failed" and "may not" in op.error
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)
