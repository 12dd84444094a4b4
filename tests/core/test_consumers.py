"""The live socket through the real ASGI stack (session auth, origin check) on the Redis layer."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.accounts.services import grant_add
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.hosts.models import Host
from kvmweb.asgi import application
from tests.helpers import TEST_URI, make_vm

pytestmark = pytest.mark.django_db(transaction=True)


def _headers(user):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers.append((b"cookie", cookie.encode()))
    return headers


def _communicator(headers):
    return WebsocketCommunicator(application, "/ws/live/", headers=headers)


def _start_domain(host, vm, test_driver):
    domains.power(test_driver, str(vm.uuid), "start")
    vm_inventory_apply(host=host, uuid=str(vm.uuid), info=domains.domain_info(test_driver, str(vm.uuid)))


def test_a_lifecycle_event_reaches_a_subscribed_client(demo_host, viewer, test_driver):
    vm = make_vm(demo_host)
    headers = _headers(viewer)

    async def scenario():
        comm = _communicator(headers)
        connected, _ = await comm.connect()
        assert connected
        await sync_to_async(_start_domain)(demo_host, vm, test_driver)
        html = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return html

    html = async_to_sync(scenario)()
    assert f'id="vm-row-{vm.pk}"' in html and 'hx-swap-oob="true"' in html
    assert ">running</span>" in html
    assert "Start</button>" not in html  # a viewer gets no power buttons


def test_a_client_without_access_to_the_host_receives_nothing(demo_host, outsider, test_driver, django_user_model):
    # Unreachable on purpose: a live monitor would otherwise list the same test-driver VMs on it.
    # Made as a row: the host service refuses a socket parameter in what users type.
    other = Host.objects.create(name="other", uri=TEST_URI + "?socket=/nonexistent/sock")
    grant_add(actor=None, user=outsider, role="Viewer", scope=other)  # sees "other", not demo
    vm = make_vm(demo_host)
    headers = _headers(outsider)

    async def scenario():
        comm = _communicator(headers)
        connected, _ = await comm.connect()
        assert connected
        await sync_to_async(_start_domain)(demo_host, vm, test_driver)
        nothing = await comm.receive_nothing(timeout=1.5)
        await comm.disconnect()
        return nothing

    assert async_to_sync(scenario)() is True


def test_an_anonymous_socket_is_closed_with_a_reason(db):
    """Accepted, then closed with 4001 and why: a refused handshake would read as a network fault
    to the browser, which would retry for ever."""

    async def scenario():
        comm = _communicator(_headers(None))
        connected, _ = await comm.connect()
        closed = await comm.receive_output(timeout=2)
        await comm.disconnect()
        return connected, closed

    connected, closed = async_to_sync(scenario)()
    assert connected
    assert closed == {"type": "websocket.close", "code": 4001, "reason": "Your session has ended; sign in again."}


def test_a_socket_from_another_origin_is_refused(viewer):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://evil.example")])
        connected, _ = await comm.connect()
        return connected

    assert async_to_sync(scenario)() is False


def test_an_admin_who_must_enrol_a_second_factor_gets_no_live_socket(admin, settings):
    """With the 2FA rule on, an administrator without a device reaches only the enrolment page,
    and the WebSocket (which no middleware sees) is refused too."""
    settings.KVMWEB_REQUIRE_2FA_FOR_ADMINS = True
    headers = _headers(admin)

    async def scenario():
        comm = _communicator(headers)
        connected, code = await comm.connect()
        await comm.disconnect()
        return connected, code

    assert async_to_sync(scenario)() == (False, 4403)
