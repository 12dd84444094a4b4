"""How an operation looks to one user, in the partials the pages render and the socket pushes (the
panel's row, a bulk result's line, the task center's row), and the live renderers: one presenter
used by the views and the renderers alike, so a row pushed live is the row the page drew."""

from django.template.loader import render_to_string
from django.utils import timezone

from apps.core import realtime

from .models import Operation, Status
from .selectors import may_cancel, operations_visible, unseen_failures
from .services import operation_cancel_requested


def duration_text(seconds):
    """ "0.4 s", "12 s", "3 min 05 s", "2 h 07 min": short enough for a table cell."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def present_operations(user, ops, now=None):
    """Mark on each operation what its row shows: whether this user may cancel it (or someone
    already asked), how long it took (or has been running, as of now) and the first line of its
    error."""
    now = now or timezone.now()
    memo = {}
    for op in ops:
        op.can_cancel = may_cancel(user, op, memo)
        op.cancel_requested = _cancel_requested(op) if op.can_cancel and op.status == Status.RUNNING else ""
        end = op.finished_at or (now if op.status == Status.RUNNING else None)
        op.duration = duration_text(max(0.0, (end - op.started_at).total_seconds())) if op.started_at and end else ""
        op.error_line = op.error.strip().splitlines()[0] if op.error.strip() else ""
    return ops


def _cancel_requested(op):
    try:
        return operation_cancel_requested(op)
    except Exception:  # noqa: BLE001 — Redis down: offer the button; the cancel itself will say
        return ""


def present_operation(user, op):
    return present_operations(user, [op])[0]


@realtime.register_renderer("operation")
def render_operation(user, event):
    """The operation's row in the panel, its line in a bulk result and its row in the task
    center, with signals for its own page and (when new) the task center's newest page; a page
    shows what it has a place for and drops the rest."""
    op = operations_visible(user).filter(pk=event["id"]).first()
    if op is None:
        return ""
    context = {"op": present_operation(user, op), "new": bool(event.get("new")), "viewer_id": user.pk}
    return render_to_string("operations/live_op.html", context)


@realtime.register_renderer("operation_step")
def render_step(user, event):
    """A step was logged: the operation's page, if open, re-reads its log."""
    if not operations_visible(user).filter(pk=event["id"]).exists():
        return ""
    return realtime.signal(f"op-{event['id']}")


@realtime.register_renderer("operation_ended")
def render_ended(user, event):
    """The toast for the person who asked, and their count of failures not yet seen."""
    op = Operation.objects.filter(pk=event["id"], actor_id=user.pk).first()
    if op is None:
        return ""
    return render_to_string("operations/live_ended.html", {"op": op, "unseen": unseen_failures(user)})


@realtime.register_renderer("operations_seen")
def render_seen(user, event):
    return render_to_string("operations/_unseen.html", {"unseen": unseen_failures(user), "oob": True})
