"""The serial console's socket through the real ASGI stack on the Redis layer, attached to the
console of a tiny real guest (tests/consoles_guest.py): what is typed reaches the guest's shell
and its echo comes back to that browser only; a second person is told who holds the console and
takes it over only when asking for it, and the first is told who took it; a VM without a serial
device, a viewer, a malformed frame are each refused with their reason."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from apps.audit.models import AuditEvent
from apps.compute.virt import domains
from apps.core.errors import VirtError
from apps.hosts.models import Host, HostState
from apps.hosts.virt import connection
from kvmweb.asgi import application
from tests.consoles.rfb_client import closed, define_vnc_domain, headers_for, inventory_row
from tests.consoles_guest import READY, define_console_domain, undefine, wait_for_serial
from tests.helpers import QEMU_URI, unavailable, unique

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def guest():
    """One booted guest for the module (booting costs seconds under TCG): (name, uuid)."""
    try:
        conn = connection.get(QEMU_URI)
    except VirtError as exc:
        unavailable(f"libvirtd's QEMU driver does not answer here: {exc}")
    name = unique("serial")
    dom_uuid = define_console_domain(conn, name, vnc=False)
    try:
        wait_for_serial(name, READY, timeout=120)
        yield name, dom_uuid
    finally:
        undefine(conn, dom_uuid)


@pytest.fixture
def vm(guest, qemu_conn, db):
    host = Host.objects.create(name="local", uri=QEMU_URI, state=HostState.UP)
    return inventory_row(qemu_conn, host, guest[1])


def serial_socket(headers, vm):
    return WebsocketCommunicator(application, f"/ws/vms/{vm.pk}/serial/", headers=headers)


async def control(comm, timeout=10):
    """The next control message, skipping console output."""
    while True:
        message = await comm.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            await comm.disconnect()  # the consumer ends here, not in a loop that closes under it
            return {"type": "closed", "code": message["code"], "reason": message.get("reason", "")}
        if message.get("text") is not None:
            return json.loads(message["text"])


async def until_output(comm, text, timeout=20):
    """Console output until `text` has come (bytes as the guest wrote them)."""
    seen = b""
    while text.encode() not in seen:
        message = await comm.receive_output(timeout=timeout)
        assert message["type"] != "websocket.close", f"closed before {text!r}: {message}"
        seen += message.get("bytes") or b""
    return seen


async def type_line(comm, line):
    await comm.send_to(text_data=json.dumps({"type": "input", "data": line + "\r"}))


def test_typing_reaches_the_guest_and_the_echo_comes_back(vm, operator):
    headers = headers_for(operator)

    async def scenario():
        comm = serial_socket(headers, vm)
        connected, _ = await comm.connect()
        assert connected
        assert await control(comm) == {"type": "ready"}
        await type_line(comm, "echo kvmweb-$((6*7))-typed")
        seen = await until_output(comm, "kvmweb-42-typed")
        await comm.disconnect()
        return seen

    assert b"kvmweb-42-typed" in async_to_sync(scenario)()  # computed by the guest's shell
    assert AuditEvent.objects.get(action="console.open").params["kind"] == "serial"
    assert AuditEvent.objects.get(action="console.close").params["kind"] == "serial"


def test_a_second_person_takes_over_only_when_asking_and_the_first_is_told(vm, operator, admin):
    first_headers, second_headers = headers_for(operator), headers_for(admin)

    async def scenario():
        first = serial_socket(first_headers, vm)
        await first.connect()
        assert await control(first) == {"type": "ready"}
        second = serial_socket(second_headers, vm)
        await second.connect()
        held = await control(second)
        await type_line(first, "echo first-$((1+1))-only")
        await until_output(first, "first-2-only")
        assert await second.receive_nothing(timeout=0.5), "the waiting person sees nothing of the console"

        await second.send_to(text_data=json.dumps({"type": "force"}))
        taken = await control(first)
        assert await control(second) == {"type": "ready"}
        await type_line(second, "echo second-$((2+2))-only")
        await until_output(second, "second-4-only")
        await second.disconnect()
        return held, taken

    held, taken = async_to_sync(scenario)()
    assert held == {"type": "held", "by": "oscar-operator"}
    assert taken == {"type": "closed", "code": 4409, "reason": "Taken over by alice-admin."}
    closes = {e.actor.username: e.params["reason"] for e in AuditEvent.objects.filter(action="console.close")}
    assert closes["oscar-operator"] == "Taken over by alice-admin."


def test_a_viewer_may_not_use_the_serial_console(vm, viewer):
    code, reason = async_to_sync(closed)(serial_socket(headers_for(viewer), vm))
    assert code == 4403 and "vm.console" in reason


def test_a_malformed_frame_closes_the_session(vm, operator):
    headers = headers_for(operator)

    async def scenario():
        comm = serial_socket(headers, vm)
        await comm.connect()
        assert await control(comm) == {"type": "ready"}
        await comm.send_to(text_data="not json")
        return await control(comm)

    closed_with = async_to_sync(scenario)()
    assert closed_with["code"] == 4400


def test_a_vm_without_a_serial_device_says_so(qemu_conn, operator, db):

    host = Host.objects.create(name="local", uri=QEMU_URI, state=HostState.UP)
    dom_uuid = define_vnc_domain(qemu_conn)
    try:
        vm = inventory_row(qemu_conn, host, dom_uuid)
        code, reason = async_to_sync(closed)(serial_socket(headers_for(operator), vm))
    finally:
        domains.undefine(qemu_conn, dom_uuid)
    assert code == 4409 and "has no serial console" in reason
