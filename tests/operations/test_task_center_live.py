"""What the live socket brings about operations, through the real ASGI stack on the Redis layer:
the task center's row and the operation page's signal to everyone who may see it, the toast (and
the count of failures not yet seen) only to the person who asked."""

import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from apps.compute.services import vm_power
from apps.operations.services import operation_run
from kvmweb.asgi import application
from tests.core.test_consumers import _headers
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db(transaction=True)


async def _drain(comm):
    """Every message the socket got until it stays quiet."""
    messages = []
    while not await comm.receive_nothing(timeout=1.5):
        messages.append(await comm.receive_from())
    return messages


def _run(actor, vm, action):
    op = vm_power(actor=actor, vm=vm, action=action)
    return operation_run(op.pk)


def test_the_toast_reaches_only_the_person_who_asked(demo_host, operator, viewer):
    vm = make_vm(demo_host, start=True)  # starting it again fails: "already running"
    owner_headers, other_headers = _headers(operator), _headers(viewer)

    async def scenario():
        owner = WebsocketCommunicator(application, "/ws/live/", headers=owner_headers)
        other = WebsocketCommunicator(application, "/ws/live/", headers=other_headers)
        assert (await owner.connect())[0] and (await other.connect())[0]
        op = await sync_to_async(_run)(operator, vm, "start")
        got = await _drain(owner), await _drain(other)
        await owner.disconnect()
        await other.disconnect()
        return op, got

    op, (owner_got, other_got) = async_to_sync(scenario)()
    assert op.status == "failed", op.status
    toasts = [m for m in owner_got if f'id="toast-op-{op.pk}"' in m]
    assert len(toasts) == 1, owner_got
    assert 'hx-swap-oob="beforeend:#kv-toasts"' in toasts[0] and "Start" in toasts[0] and vm.name in toasts[0]
    assert f'href="/operations/{op.pk}/"' in toasts[0] and "failed." in toasts[0]
    assert "data-autohide" not in toasts[0]  # a failure stays until closed
    badges = [m for m in owner_got if 'hx-swap-oob="outerHTML:.ops-unseen"' in m]
    assert badges and re.search(r">1<span class=\"visually-hidden\">", badges[-1])

    # The other user follows the same operation in the task center, but gets no toast of it.
    assert not [m for m in other_got if "kv-toast" in m or ".ops-unseen" in m]
    assert any(f'id="tc-op-{op.pk}"' in m and 'data-status="failed"' in m for m in other_got)
    assert any(f"kv-signal:op-{op.pk}" in m for m in other_got)
    assert any("kv-signal:ops-new" in m for m in other_got)  # the newest page re-reads itself


def test_a_success_toast_goes_away_by_itself(demo_host, operator):
    vm = make_vm(demo_host)
    headers = _headers(operator)

    async def scenario():
        owner = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        assert (await owner.connect())[0]
        op = await sync_to_async(_run)(operator, vm, "start")
        got = await _drain(owner)
        await owner.disconnect()
        return op, got

    op, got = async_to_sync(scenario)()
    assert op.status == "succeeded", op.error
    toast = next(m for m in got if f'id="toast-op-{op.pk}"' in m)
    assert 'data-autohide="8000"' in toast and "succeeded." in toast
