"""Telling the person who asked: a toast on each of their open tabs when their operation ends,
and their failed operations marked until they have seen them.

The toast travels to the asker's own group (every socket of theirs joins it), never to a host's
group, so nobody else gets it. "Seen" is a flag on the operation (Operation.failure_seen), set
when they open it or the task center filtered to their failures.
"""

from apps.core import realtime

from .models import FAILURES, Operation


def notify_ended(op):
    """After commit, the toast for the person who asked (rendered by live.render_ended)."""
    if op.actor_id is not None:
        realtime.publish_on_commit(realtime.user_group(op.actor_id), "operation_ended", id=op.pk)


def failures_mark_seen(*, actor, op=None):
    """Mark the actor's own failed (or lost) operations seen: all of them, or only `op`. Their other tabs'
    counts follow. Returns how many were marked."""
    qs = Operation.objects.filter(actor_id=actor.pk, status__in=FAILURES, failure_seen=False)
    if op is not None:
        qs = qs.filter(pk=op.pk)
    marked = qs.update(failure_seen=True)
    if marked:
        realtime.publish_on_commit(realtime.user_group(actor.pk), "operations_seen")
    return marked
