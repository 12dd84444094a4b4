"""The .vv file for remote-viewer on tiny real QEMU domains with SPICE displays, the ticket set by
the real worker: the file carries a password the running display takes for two minutes (read back
from its live XML) and the address the viewer reaches; asking is audited and the ticket is stored
nowhere; a display started without a password gets a file without one; what cannot work says why."""

import configparser
import uuid
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.virt import consoles, domains
from apps.compute.virt.xml import Domain
from apps.compute.virt.xml.devices import Graphics
from apps.consoles.spice import SpiceError, spice_file
from apps.hosts.services import host_create
from apps.operations.models import Operation
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def spice_vm(stack, qemu_conn):
    """spice_vm(password=None, start=True) -> a tiny QEMU domain with a SPICE display on loopback,
    as the monitor lists it."""
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    made = []

    def _make(*, password=None, start=True):
        display = Graphics("spice", listen="127.0.0.1")
        if password:
            display.passwd = password
        spec = Domain(unique("spice"), memory_mib=32, domain_type="qemu", uuid=str(uuid.uuid4()), graphics=[display])
        made.append(domains.define(qemu_conn, spec.to_xml()))
        if start:
            domains.power(qemu_conn, made[-1], "start")
        state = "running" if start else "shutoff"
        return wait_for(
            lambda: VirtualMachine.objects.filter(host=host, uuid=made[-1], state=state).first(),
            timeout=30,
            message="the monitor to list the domain",
        )

    yield _make
    for dom_uuid in made:
        domains.undefine(qemu_conn, dom_uuid)


def _vv(text):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser["virt-viewer"]


def test_a_vv_file_carries_a_ticket_the_display_takes_for_two_minutes(spice_vm, operator, qemu_conn):
    vm = spice_vm(password="started")
    client = Client()
    client.force_login(operator)
    response = client.post(reverse("consoles:spice_vv", args=[vm.pk]), HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-virt-viewer"
    assert response["Content-Disposition"] == f'attachment; filename="{vm.name}.vv"'
    vv = _vv(response.content.decode())
    display = consoles.consoles(qemu_conn, str(vm.uuid)).display("spice")
    assert (vv["type"], vv["host"], int(vv["port"])) == ("spice", "127.0.0.1", display.port)
    assert vv["password"] == display.password != "started", "the running display takes the ticket"
    live = Domain.parse(domains.lookup(qemu_conn, str(vm.uuid)).XMLDesc(1))  # secure: the ticket's validity
    valid_to = datetime.fromisoformat(next(g for g in live.graphics if g.type == "spice").passwd_valid_to)
    expected = (timezone.now() + timedelta(seconds=120)).replace(tzinfo=None)
    assert abs((valid_to - expected).total_seconds()) < 30

    asked = AuditEvent.objects.get(action="console.spice", actor=operator)
    assert asked.params == {"ticket": True, "valid_seconds": 120}
    op = Operation.objects.get(kind="vm.spice_ticket")
    assert op.status == "succeeded"
    rows = [*Operation.objects.values_list("params", "message"), *AuditEvent.objects.values_list("params", "error")]
    assert all(vv["password"] not in str(row) for row in rows)


def test_a_display_without_a_password_gets_a_file_without_one(spice_vm, operator):
    vm = spice_vm()
    vv = _vv(spice_file(operator, vm, browser_host="localhost"))
    assert "password" not in vv and vv["host"] == "127.0.0.1"
    assert not Operation.objects.filter(kind="vm.spice_ticket").exists()
    assert AuditEvent.objects.get(action="console.spice").params == {"ticket": False, "valid_seconds": None}


def test_what_cannot_work_says_why(spice_vm, operator, viewer):
    stopped = spice_vm(start=False)
    with pytest.raises(SpiceError, match="is not running"):
        spice_file(operator, stopped, browser_host="localhost")
    running = spice_vm()
    with pytest.raises(SpiceError, match="listens only on its host's loopback"):
        spice_file(operator, running, browser_host="kvm.example.com")
    client = Client()
    client.force_login(viewer)
    assert client.post(reverse("consoles:spice_vv", args=[running.pk])).status_code == 403
