"""The live tail: every new record is pushed after commit, rendered only for those who may read it."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from apps.audit import live
from apps.audit.services import record
from apps.core import realtime
from kvmweb.asgi import application

from .conftest import Target


def test_every_signed_in_socket_joins_the_audit_group(admin, outsider):
    assert "audit" in realtime.groups_for(outsider)
    assert live.audit_groups(AnonymousUser()) == []


def test_the_row_goes_to_a_user_who_may_read_it_and_to_no_one_else(admin, viewer, outsider, demo_host):
    event = record("vm.start", "requested", actor=admin, target=Target("vm", 7, "web-7", demo_host))
    html = "".join(realtime.render_event(admin, {"kind": "audit", "id": event.pk}))
    assert 'hx-swap-oob="afterbegin:#audit-live-rows"' in html and f'id="audit-{event.pk}"' in html
    assert 'hx-swap-oob="afterbegin:#activity-rows-vm-7"' in html
    assert realtime.render_event(viewer, {"kind": "audit", "id": event.pk})  # a viewer of every host
    assert realtime.render_event(outsider, {"kind": "audit", "id": event.pk}) == []


def test_a_record_is_published_only_when_its_transaction_commits(db, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, kind, **payload: sent.append((group, kind, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        event = record("auth.denied", "denied")
        assert sent == []
    assert sent == [("audit", "audit", {"id": event.pk})]


@pytest.mark.django_db(transaction=True)
def test_a_new_record_reaches_an_open_audit_page(admin, outsider):
    def headers(user):
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        return [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]

    admin_headers, outsider_headers = headers(admin), headers(outsider)

    async def scenario():
        watcher = WebsocketCommunicator(application, "/ws/live/", headers=admin_headers)
        stranger = WebsocketCommunicator(application, "/ws/live/", headers=outsider_headers)
        assert (await watcher.connect())[0] and (await stranger.connect())[0]
        event = await sync_to_async(record)("auth.denied", "denied", params={"permission": "host.manage"})
        html = await watcher.receive_from(timeout=5)
        nothing = await stranger.receive_nothing(timeout=1)
        await watcher.disconnect()
        await stranger.disconnect()
        return event, html, nothing

    event, html, nothing = async_to_sync(scenario)()
    assert f'id="audit-{event.pk}"' in html and "afterbegin:#audit-live-rows" in html
    assert nothing is True
