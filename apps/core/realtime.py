"""Live updates: producers publish small notifications after commit; consumers turn them into
HTML fragments per user, so authorization is checked at delivery for every recipient.

Apps register these here, so that core knows no app by name:
- a groups provider: which groups a user's socket joins (e.g. one per host they may view);
- a renderer per event kind: (user, event) -> HTML with hx-swap-oob, or "" when the user may not
  see it;
- scopes entered around each unit of work done for one user — an event's rendering, a socket's
  group lookup (authz's rights memo: what the user holds is read once per unit, however many
  questions the renderer asks, and afresh for the next).
"""

import logging
from contextlib import ExitStack, contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

_group_providers = []
_renderers = {}
_event_scopes = []


def register_groups(provider):
    _group_providers.append(provider)
    return provider


def register_renderer(kind):
    def deco(fn):
        if kind in _renderers:
            raise RuntimeError(f"live renderer for {kind!r} registered twice")
        _renderers[kind] = fn
        return fn

    return deco


def register_event_scope(factory):
    """`factory()` gives a context manager entered around each unit of work for one user."""
    if factory not in _event_scopes:
        _event_scopes.append(factory)
    return factory


@contextmanager
def _scoped():
    with ExitStack() as stack:
        for factory in _event_scopes:
            stack.enter_context(factory())
        yield


def groups_for(user):
    groups = []
    with _scoped():
        for provider in _group_providers:
            groups.extend(provider(user))
    return groups


# Live templates put this between fragments that must reach the browser as separate messages:
# htmx parses each message in one <template>, whose first tag fixes the parsing mode, so a table
# row and a section holding a table cannot share a message without one of them being mangled.
SPLIT = "<!-- kv:split -->"


def render_event(user, event):
    """The messages (HTML fragments with hx-swap-oob) this user gets for the event; [] if none."""
    renderer = _renderers.get(event.get("kind"))
    if renderer is None:
        return []
    with _scoped():
        html = renderer(user, event) or ""
    return [part for part in (p.strip() for p in html.split(SPLIT)) if part]


def host_group(host_id):
    return f"host-{host_id}"


def user_group(user_id):
    """Every open socket of one user joins this group (LiveConsumer), so it can be closed."""
    return f"user-{user_id}"


# Close codes the page understands (static/js/kvmweb.js): RECONNECT makes the htmx ws extension
# connect again (1012, "service restart"), so the socket rejoins with the user's rights as they
# are now; ENDED stops it, and the page says why.
RECONNECT = 1012
ENDED = 4001


def close_sockets_on_commit(user_ids, *, reason, code=RECONNECT):
    """After commit, close every open socket of these users with a reason the page shows: live
    fragments must not outlive a revoked right, a deactivated account or a session signed out."""
    user_ids = sorted(set(user_ids))

    def send():
        layer = get_channel_layer()
        for user_id in user_ids:
            try:
                async_to_sync(layer.group_send)(
                    user_group(user_id), {"type": "live.close", "code": code, "reason": reason}
                )
            except Exception:  # noqa: BLE001 — a layer that is down has no sockets to close either
                log.warning("closing the sockets of user %s failed", user_id, exc_info=True)

    transaction.on_commit(send)


def publish(group, kind, **payload):
    """Send now. Failures are logged, not raised: a missed notification is repaired by the next
    page load or socket reconnect, a failed hypervisor action would not be."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": "live.event", "kind": kind, **payload})
    except Exception:  # noqa: BLE001 — the channel layer being down must not break the caller
        log.warning("live publish to %s failed", group, exc_info=True)


def publish_on_commit(group, kind, **payload):
    transaction.on_commit(lambda: publish(group, kind, **payload))


def signal(name):
    """A live message that only tells open pages that something changed: the page's element with
    hx-trigger="kv:<name> from:body" re-reads itself (static/js/behaviours.js fires the event)."""
    return f"<!-- kv-signal:{name} -->"
