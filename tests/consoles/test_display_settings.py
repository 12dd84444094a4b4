"""Display and console settings on a tiny real QEMU domain, run by the real worker: a first VNC
password applies from the next boot, a new one while it runs with one takes effect at once, and
kvmweb's console still opens (the relay answers it), without the password ever being stored,
audited or shown; clearing it and adding a serial console apply from the next boot; a bad
password is refused with its reason and queues nothing."""

import pytest
from asgiref.sync import async_to_sync

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import display as services
from apps.compute.virt import consoles, domains
from apps.compute.virt import display as virt
from apps.hosts.services import host_create
from apps.operations.models import Operation
from tests.consoles.rfb_client import define_vnc_domain, handshake, headers_for, offered_security, vnc_socket
from tests.helpers import QEMU_URI, finished, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
PASSWORD = "n3wPass!"


@pytest.fixture
def vm(stack, qemu_conn):
    dom_uuid = define_vnc_domain(qemu_conn)
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    yield wait_for(
        lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the domain as running",
    )
    domains.undefine(qemu_conn, dom_uuid)


def _run(op):
    op = finished(op)
    assert op.status == "succeeded", op.error or op.message
    return op


def test_a_vnc_password_set_live_then_cleared_and_a_serial_console_added(vm, operator, qemu_conn):
    op = _run(services.vm_display_change(actor=operator, vm=vm, password="first1"))
    assert "VNC password set from the next boot (the display was started without one)" in op.message
    domains.power(qemu_conn, str(vm.uuid), "destroy")
    domains.power(qemu_conn, str(vm.uuid), "start")
    display = consoles.consoles(qemu_conn, str(vm.uuid)).display("vnc")
    assert async_to_sync(offered_security)(display) == bytes([2]), "started with it, the display asks for it"

    op = _run(services.vm_display_change(actor=operator, vm=vm, password=PASSWORD))
    assert "VNC password set, now and from the next boot" in op.message
    display = consoles.consoles(qemu_conn, str(vm.uuid)).display("vnc")
    assert async_to_sync(offered_security)(display) == bytes([2]), "the running display asks for it now"
    comm = vnc_socket(headers_for(operator), vm)

    async def console():
        result = await handshake(comm)
        await comm.disconnect()
        return result

    assert async_to_sync(console)()[0] > 0, "kvmweb's console answers the new password itself"

    op = _run(services.vm_display_change(actor=operator, vm=vm, clear_password=True, add_serial=True))
    assert "cleared from the next boot" in op.message and "serial console added from the next boot" in op.message
    assert virt.read(qemu_conn, str(vm.uuid)) == virt.DisplaySettings(
        vnc=True, spice=False, password_set=False, serial=True
    )

    rows = [
        *Operation.objects.values_list("params", "message", "error"),
        *AuditEvent.objects.values_list("params", "changes", "error"),
    ]
    assert rows and all(PASSWORD not in str(row) for row in rows)


@pytest.mark.parametrize(
    ("password", "reason"),
    [("toolongpw", "at most 8 characters"), ("pässwort", "printable ASCII"), ("", "Nothing changed")],
)
def test_a_bad_password_is_refused_and_queues_nothing(vm, operator, password, reason):
    with pytest.raises(services.DisplayError, match=reason):
        services.vm_display_change(actor=operator, vm=vm, password=password)
    assert not Operation.objects.filter(kind="vm.display").exists()
