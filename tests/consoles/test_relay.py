"""The graphical console's socket through the real ASGI stack (session auth, origin check) on the
Redis layer, relaying to the VNC server of a tiny real QEMU domain: refusals with their reasons,
the RFB handshake through the relay, a VNC password answered by the relay, the limit, and a
revoked right closing an open console."""

import struct

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.accounts.services import grant_add, grant_remove, user_logout_everywhere, user_update
from apps.audit.models import AuditEvent
from apps.authz.models import Grant
from apps.compute.virt import consoles, domains
from apps.consoles.models import ConsoleSession
from apps.hosts.models import Host, HostState
from tests.consoles.rfb_client import (
    closed,
    define_vnc_domain,
    handshake,
    headers_for,
    inventory_row,
    offered_security,
    until_closed,
    vnc_socket,
)
from tests.helpers import QEMU_URI

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local(qemu_conn, db):
    return Host.objects.create(name="local", uri=QEMU_URI, state=HostState.UP)


@pytest.fixture
def vnc_vm(qemu_conn, local):
    """vnc_vm(password=None, start=True) -> the inventory row of a tiny QEMU domain with VNC."""
    made = []

    def _make(*, password=None, start=True):
        made.append(define_vnc_domain(qemu_conn, password=password, start=start))
        return inventory_row(qemu_conn, local, made[-1])

    yield _make
    for dom_uuid in made:
        domains.undefine(qemu_conn, dom_uuid)


def _open(headers, vm, query=""):
    return vnc_socket(headers, vm, query)


def test_no_session_is_refused_with_the_reason(vnc_vm):
    vm = vnc_vm(start=False)
    code, reason = async_to_sync(closed)(_open(headers_for(None), vm))
    assert (code, reason) == (4001, "Your session has ended; sign in again.")


def test_a_vm_the_user_may_not_see_is_not_found(vnc_vm, outsider):
    vm = vnc_vm(start=False)
    assert async_to_sync(closed)(_open(headers_for(outsider), vm)) == (4404, "No such virtual machine.")


def test_seeing_a_vm_is_not_using_its_console(vnc_vm, viewer):
    vm = vnc_vm()
    code, reason = async_to_sync(closed)(_open(headers_for(viewer), vm))
    assert code == 4403 and "vm.console" in reason
    denied = AuditEvent.objects.filter(action="auth.denied", actor=viewer, target_id=str(vm.pk)).get()
    assert denied.params == {"permission": "vm.console"}
    assert not ConsoleSession.objects.exists()


def test_a_right_on_another_vm_does_not_open_this_one(vnc_vm, django_user_model):
    vm, other = vnc_vm(), vnc_vm(start=False)
    user = django_user_model.objects.create_user("vic-vmuser")
    grant_add(actor=None, user=user, role="VM user", scope=other)
    assert async_to_sync(closed)(_open(headers_for(user), vm)) == (4404, "No such virtual machine.")


def test_a_stopped_vm_says_so(vnc_vm, operator):
    vm = vnc_vm(start=False)
    code, reason = async_to_sync(closed)(_open(headers_for(operator), vm))
    assert code == 4409 and "is not running" in reason
    refused = AuditEvent.objects.get(action="console.refused", actor=operator)
    assert refused.error == reason


def test_the_rfb_handshake_comes_through_the_relay_and_the_session_is_audited(vnc_vm, operator):
    vm = vnc_vm()
    headers = headers_for(operator)

    async def scenario():
        comm = _open(headers, vm)
        width, height, name = await handshake(comm)
        session = await sync_to_async(ConsoleSession.objects.get)(vm=vm, closed_at__isnull=True)
        await comm.disconnect()
        return width, height, name, session

    width, height, name, session = async_to_sync(scenario)()
    assert width > 0 and height > 0
    assert vm.name in name  # QEMU names the desktop after the domain
    assert (session.user, session.kind, session.view_only) == (operator, "vnc", False)
    opened = AuditEvent.objects.get(action="console.open", actor=operator)
    closed = AuditEvent.objects.get(action="console.close", actor=operator)
    assert opened.target_id == str(vm.pk) and opened.params["kind"] == "vnc"
    assert closed.params["reason"] == "Closed in the browser." and closed.params["seconds"] >= 0
    assert ConsoleSession.objects.get(pk=session.pk).closed_at is not None


@pytest.mark.parametrize("graphics_fd", [True, False], ids=["libvirt-socket", "tcp-with-password"])
def test_a_vnc_password_is_answered_by_the_relay(vnc_vm, operator, qemu_conn, settings, graphics_fd):
    """Locally the relay gets a socket from libvirt, for which the display skips its password;
    over TCP (an SSH or remote host's path) the relay answers the password's DES challenge."""
    settings.KVMWEB_CONSOLE_GRAPHICS_FD = graphics_fd
    vm = vnc_vm(password="s3cr3tpw")
    display = consoles.consoles(qemu_conn, str(vm.uuid)).display("vnc")
    headers = headers_for(operator)

    async def scenario():
        assert await offered_security(display) == bytes([2]), "the display itself asks for the password"
        comm = _open(headers, vm)
        result = await handshake(comm)
        await comm.disconnect()
        return result

    width, _height, name = async_to_sync(scenario)()
    assert width > 0 and vm.name in name
    for event in AuditEvent.objects.all():
        assert "s3cr3tpw" not in str(event.params) + event.error


def test_the_per_user_limit_refuses_one_more(vnc_vm, operator, settings):
    settings.KVMWEB_CONSOLE_SESSIONS_PER_USER = 1
    vm = vnc_vm()
    headers = headers_for(operator)

    async def scenario():
        first = _open(headers, vm)
        await handshake(first)
        refused = await closed(_open(headers, vm))
        await first.disconnect()
        return refused

    code, reason = async_to_sync(scenario)()
    assert code == 4429 and "1 consoles open already" in reason


def test_revoking_the_right_closes_an_open_console(vnc_vm, django_user_model):
    vm = vnc_vm()
    user = django_user_model.objects.create_user("vic-vmuser")
    grant_add(actor=None, user=user, role="VM user", scope=vm)
    grant = Grant.objects.get(user=user)
    headers = headers_for(user)

    async def scenario():
        comm = _open(headers, vm)
        await handshake(comm)
        await sync_to_async(grant_remove)(actor=None, grant=grant)
        return await until_closed(comm)

    assert async_to_sync(scenario)() == (4000, "Your right to this console was revoked.")
    assert AuditEvent.objects.get(action="console.close").params["reason"] == "Your right to this console was revoked."


def test_a_text_frame_closes_that_session_only(vnc_vm, operator):
    vm = vnc_vm()
    headers = headers_for(operator)

    async def scenario():
        bad, good = _open(headers, vm), _open(headers, vm)
        await handshake(bad)
        await handshake(good)
        await bad.send_to(text_data="hello")
        code, _reason = await until_closed(bad, timeout=5)
        await good.send_to(bytes_data=struct.pack(">BBHHHH", 3, 0, 0, 0, 8, 8))  # FramebufferUpdateRequest
        update = await good.receive_from(timeout=10)
        await good.disconnect()
        return code, update

    code, update = async_to_sync(scenario)()
    assert code == 4400
    assert update[0] == 0  # a FramebufferUpdate: the other session goes on


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (lambda user: user_logout_everywhere(actor=None, user=user), "You were signed out everywhere."),
        (lambda user: user_update(actor=None, user=user, is_active=False), "Your account was deactivated."),
    ],
    ids=["signed-out-everywhere", "deactivated"],
)
def test_the_end_of_a_session_closes_an_open_console(vnc_vm, operator, end, reason):
    vm = vnc_vm()
    headers = headers_for(operator)

    async def scenario():
        comm = _open(headers, vm)
        await handshake(comm)
        await sync_to_async(end)(operator)
        return await until_closed(comm)

    assert async_to_sync(scenario)() == (4001, reason)


def test_a_viewer_watches_view_only_where_an_administrator_allows_it(vnc_vm, viewer, settings):
    settings.KVMWEB_CONSOLE_VIEW_ONLY = True
    vm = vnc_vm()
    headers = headers_for(viewer)

    async def scenario():
        comm = _open(headers, vm)
        await handshake(comm)
        session = await sync_to_async(ConsoleSession.objects.get)(vm=vm, closed_at__isnull=True)
        await comm.disconnect()
        return session

    session = async_to_sync(scenario)()
    assert (session.user, session.view_only) == (viewer, True)
    assert AuditEvent.objects.get(action="console.open").params["view_only"] is True
