"""The audit log's live tail: every new record is offered to every signed-in socket, and rendered
only for those who may read it (checked in the query, per record, per user)."""

from django.template.loader import render_to_string

from apps.core import realtime

from .selectors import events_visible
from .services import LIVE_GROUP


@realtime.register_groups
def audit_groups(user):
    return [LIVE_GROUP] if user is not None and user.is_authenticated else []


@realtime.register_renderer("audit")
def render_audit(user, event):
    record = events_visible(user).filter(pk=event.get("id")).first()
    if record is None:
        return ""
    return render_to_string("audit/live_event.html", {"e": record})
