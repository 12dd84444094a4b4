"""Open sockets do not outlive the right or the session that opened them: deactivating a user,
"sign out everywhere", a password change and a revoked grant close them within 2 s, with a reason
the page shows (issue: teams stay apart, item 9)."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts import services
from apps.authz.models import Grant
from kvmweb.asgi import application
from tests.core.test_consumers import _headers, _start_domain
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_after(user, change):
    """Open a socket as `user`, make `change`, return what the socket got (within 2 s)."""
    headers = _headers(user)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        await sync_to_async(change)()
        output = await comm.receive_output(timeout=2)
        await comm.wait()
        return output

    return async_to_sync(scenario)()


@pytest.mark.parametrize(
    "change, code, reason",
    [
        (lambda admin, user: services.user_update(actor=admin, user=user, is_active=False), 4001,
         "Your account was deactivated."),
        (lambda admin, user: services.user_logout_everywhere(actor=admin, user=user), 4001,
         "You were signed out everywhere."),
        (lambda admin, user: services.user_set_password(actor=admin, user=user, password="an0ther-long-passphrase"),
         1012, "The password was changed."),
        (lambda admin, user: services.grant_remove(actor=admin, grant=Grant.objects.get(user=user)), 1012,
         "Your rights changed."),
    ],
    ids=["deactivated", "signed-out-everywhere", "password-changed", "grant-revoked"],
)  # fmt: skip
def test_the_socket_is_closed_with_the_reason(demo_host, admin, viewer, change, code, reason):
    output = _closed_after(viewer, lambda: change(admin, viewer))
    assert output == {"type": "websocket.close", "code": code, "reason": reason}


def test_a_revoked_viewer_gets_no_fragment_after_reconnecting(demo_host, admin, viewer, test_driver):
    """The reconnected socket joins with the rights as they are now: nothing about the host."""
    vm = make_vm(demo_host)
    services.grant_remove(actor=admin, grant=Grant.objects.get(user=viewer))
    headers = _headers(viewer)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        await sync_to_async(_start_domain)(demo_host, vm, test_driver)
        nothing = await comm.receive_nothing(timeout=1.5)
        await comm.disconnect()
        return nothing

    assert async_to_sync(scenario)() is True


def test_a_team_member_removed_reconnects_too(demo_host, admin, outsider):
    team = services.team_create(actor=admin, name="ops")
    services.team_member_add(actor=admin, team=team, user=outsider)
    services.grant_add(actor=admin, team=team, role="Viewer", scope=demo_host)
    output = _closed_after(outsider, lambda: services.team_member_remove(actor=admin, team=team, user=outsider))
    assert output["code"] == 1012 and output["reason"] == "Your rights changed."
