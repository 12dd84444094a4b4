"""Console sessions: opened and closed by the consumers, counted against the per-user limit,
listed on the VM page, closed by an administrator. Each open and close is audited (who, from
where, graphical or serial, for how long).

Callable without a request: the consumers pass the user and the browser's address.
"""

from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.authz.rights import authorize
from apps.core import context

from .live import publish_sessions_changed
from .models import ConsoleSession

registry.register("console.open", "opened a console of VM")
registry.register("console.close", "closed a console of VM")
registry.register("console.refused", "was refused a console of VM")
registry.register("console.end", "ended someone's console of VM")

# A live session renews seen_at every HEARTBEAT; one not seen for STALE_AFTER belonged to a web
# process that died, and no longer counts (nor shows as connected).
HEARTBEAT = timedelta(seconds=30)
STALE_AFTER = timedelta(seconds=90)


class ConsoleRefused(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _live():
    return ConsoleSession.objects.filter(closed_at__isnull=True, seen_at__gte=timezone.now() - STALE_AFTER)


def open_sessions(vm):
    return list(_live().filter(vm=vm).select_related("user").order_by("opened_at"))


def serial_holder(vm, *, besides=None):
    """The open serial session on this VM (another browser's), if any."""
    qs = _live().filter(vm=vm, kind="serial").select_related("user")
    if besides is not None:
        qs = qs.exclude(pk=besides)
    return qs.order_by("-opened_at").first()


def refuse(user, vm, kind, reason, *, client=""):
    """Record a console that could not open, with the reason the person was given."""
    with context.using(context.RequestContext("", client, "")):
        record("console.refused", Outcome.DENIED, actor=user, target=vm, params={"kind": kind}, error=reason)


@transaction.atomic
def session_open(user, vm, kind, *, view_only, client, channel_name):
    """Count the user's open consoles (under a lock on the user's row, so two opening at once
    cannot both slip under the limit), then record the new one."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    limit = settings.KVMWEB_CONSOLE_SESSIONS_PER_USER
    if _live().filter(user=user).count() >= limit:
        raise ConsoleRefused(
            f"You have {limit} consoles open already, the most one person may have; close one first.", 4429
        )
    session = ConsoleSession.objects.create(
        vm=vm, user=user, kind=kind, view_only=view_only, client=client, channel_name=channel_name
    )
    with context.using(context.RequestContext("", client, "")):
        record(
            "console.open",
            Outcome.SUCCEEDED,
            actor=user,
            target=vm,
            params={"kind": kind, "view_only": view_only, "session": session.pk},
        )
    publish_sessions_changed(vm)
    return session


def session_seen(session_id):
    ConsoleSession.objects.filter(pk=session_id, closed_at__isnull=True).update(seen_at=timezone.now())


@transaction.atomic
def session_closed(session_id, reason):
    """Record the end of a session (once, whoever notices first)."""
    session = ConsoleSession.objects.select_for_update().select_related("vm__host", "user").filter(pk=session_id).first()
    if session is None or session.closed_at is not None:
        return
    session.closed_at = timezone.now()
    session.close_reason = reason[:200]
    session.save(update_fields=["closed_at", "close_reason"])
    seconds = int((session.closed_at - session.opened_at).total_seconds())
    with context.using(context.RequestContext("", session.client, "")):
        record(
            "console.close",
            Outcome.SUCCEEDED,
            actor=session.user,
            target=session.vm,
            params={"kind": session.kind, "seconds": seconds, "reason": reason[:200], "session": session.pk},
        )
    publish_sessions_changed(session.vm)


def tell_session(session, message, *, code):
    """Close a session's socket, in whichever web process holds it, with a reason to show."""
    if not session.channel_name:
        return
    async_to_sync(get_channel_layer().send)(
        session.channel_name, {"type": "console.end", "code": code, "reason": message[:120]}
    )


def close_session(actor, session):
    """An administrator ends someone's console."""
    authorize(actor, "host.manage", session.vm)
    record(
        "console.end",
        Outcome.SUCCEEDED,
        actor=actor,
        target=session.vm,
        params={"kind": session.kind, "user": session.user.get_username(), "session": session.pk},
    )
    name = actor.get_full_name() or actor.get_username()
    transaction.on_commit(lambda: tell_session(session, f"Closed by {name}.", code=4000))
