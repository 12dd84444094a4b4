"""The life of an Operation: queued by a service in the request, run by a worker.

`operation_queue` is called inside the requesting service with the operation's kind; after commit
it sends the one run task (operations.run) to the target host's queue. On the worker,
`operation_run` finds the runner registered for the kind (apps/operations/runners.py), guards it
the same way for every kind — the target still exists, the requester still exists, is active and
still holds the runner's permission, the runner's policy (e.g. the XML policy) still passes — and
ends the operation succeeded, failed or cancelled with a readable message, an audit record for the
outcome and a live update after commit.
"""

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

import redis
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.audit import registry as audit_actions
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.authz.rights import authorize
from apps.core import context, realtime
from apps.core.errors import OperationCancelled, OperationError
from apps.core.queues import host_queue

from . import runners, steps
from .models import Operation, Status

log = logging.getLogger(__name__)

RUN_TASK = "operations.run"

# A run whose worker went away (killed, crashed, cut off at its hard time limit) ends "lost":
# nobody can tell how far it got. A cancelled run's audit outcome is "cancelled".
LOST = Status.LOST
CANCELLED_OUTCOME = Outcome.CANCELLED
GRACE = 60  # seconds past a run's hard limit before the reaper calls it lost

audit_actions.register("operation.cancel", "asked to cancel")

__all__ = [
    "OperationCancelled",
    "OperationError",
    "operation_cancel",
    "operation_cancel_requested",
    "operation_check_cancel",
    "operation_progress",
    "operation_queue",
    "operation_run",
    "operation_watch",
]


def _publish(op, *, new=False):
    # "new" travels with the event: by the time it is rendered the worker may already have moved
    # the operation on, and a page must still insert the row rather than update a missing one.
    if op.host_id is not None:
        realtime.publish_on_commit(realtime.host_group(op.host_id), "operation", id=op.pk, new=new)


def operation_queue(*, actor, kind, target, params):
    """Create a queued Operation of `kind` with its "requested" audit record; after commit send the
    run task, by id only, to the target's host queue with the runner's time limits."""
    runner = runners.get(kind)  # an unknown kind fails here, in the request, not on a worker
    ctx = context.current()
    fields = target.audit_target()
    op = Operation.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        target_type=fields["target_type"],
        target_id=str(fields["target_id"]),
        target_name=fields["target_name"],
        host_id=fields.get("host_id"),
        host_name=fields.get("host_name") or "",
        params=params,
        request_id=ctx.request_id,
        source_ip=ctx.source_ip,
        user_agent=ctx.user_agent,
    )
    record(kind, Outcome.REQUESTED, actor=actor, target=target, params=params, operation=op)
    _publish(op, new=True)
    limits = {}
    if runner.soft_time_limit:
        limits = {"soft_time_limit": runner.soft_time_limit, "time_limit": runner.time_limit}

    def send():
        result = current_app.send_task(RUN_TASK, args=[op.pk], queue=host_queue(op.host_id), **limits)
        Operation.objects.filter(pk=op.pk, task_id="").update(task_id=result.id)

    transaction.on_commit(send)
    return op


def _finish(op, status, *, message="", error=""):
    op.status = status
    op.finished_at = timezone.now()
    op.progress = 100 if status == Status.SUCCEEDED else op.progress
    op.message = (message or op.message)[:500]
    op.error = error
    op.save(update_fields=["status", "finished_at", "progress", "message", "error"])
    outcome = {Status.SUCCEEDED: Outcome.SUCCEEDED, Status.CANCELLED: CANCELLED_OUTCOME}.get(status, Outcome.FAILED)
    record(op.kind, outcome, actor=op.actor, target=op, params=runners.audited_params(op), error=error, operation=op)
    _publish(op)
    steps.ended(op)  # the step log's last line, and the toast for who asked


def _guard(op, runner):
    """The worker-side checks, once for every kind; returns the loaded target or raises with a
    message for the person. Work asked for by nobody (actor_name empty: commands, the system)
    has no right to re-check."""
    if op.actor_id is None and op.actor_name:
        raise OperationError(f"The user who asked for this ({op.actor_name}) no longer exists.")
    if op.actor is not None and not op.actor.is_active:
        raise PermissionDenied(f"The user who asked for this ({op.actor_name}) has been deactivated.")
    target = runner.load(op)
    if target is None:
        raise OperationError(f"{op.target_name} no longer exists.")
    if op.actor is not None:
        authorize(op.actor, runner.permission, target)
    if runner.policy is not None:
        runner.policy(op, target)
    return target


def operation_run(operation_id):
    """Run a queued operation by its kind's runner; returns the finished Operation.

    The runner returns a short success message or raises. Errors raised on purpose
    (OperationError, which the adapters' VirtError is, and PermissionDenied) end the operation with
    their own words; anything else is a bug, logged with its traceback and shown as an internal
    error.
    """
    with transaction.atomic():
        op = Operation.objects.select_for_update().get(pk=operation_id)
        if op.status == Status.RUNNING:
            # acks_late redelivered a task whose worker process died mid-run (killed, crashed):
            # the hypervisor may or may not have acted, so say so rather than act twice.
            _finish(op, LOST, error=_lost_message(op))
            _cleanup(op)  # inputs waiting for the runner (a secret, an XML text) are not kept
            return op
        if op.status != Status.QUEUED:
            return op
        op.status = Status.RUNNING
        op.started_at = timezone.now()
        op.save(update_fields=["status", "started_at"])
        _publish(op)
    steps.started(op)

    token = context.use(context.RequestContext(op.request_id, op.source_ip, op.user_agent))
    try:
        runner = runners.get(op.kind)
        try:
            target = _guard(op, runner)
        except BaseException as exc:
            steps.refused(op, exc)
            if runner.cleanup is not None:
                runner.cleanup(op)
            raise
        steps.checked(op, runner)
        message = runner.run(op, target) or ""
    except OperationCancelled as exc:
        with transaction.atomic():
            _finish(op, Status.CANCELLED, error=str(exc))
    except (OperationError, PermissionDenied) as exc:
        with transaction.atomic():
            _finish(op, Status.FAILED, error=str(exc))
    except SoftTimeLimitExceeded:
        with transaction.atomic():
            _finish(op, Status.FAILED, error="The operation took too long and was stopped.")
    except Exception as exc:
        log.exception("operation %s (%s) crashed", op.pk, op.kind)
        with transaction.atomic():
            _finish(op, Status.FAILED, error=f"Internal error: {exc.__class__.__name__}")
    else:
        with transaction.atomic():
            _finish(op, Status.SUCCEEDED, message=message)
    finally:
        context.reset(token)
    return op


def operation_progress(op, percent, message=""):
    """Record how far running work has got and show it live (the panel and any page listening).

    Runners call it as they advance (a transfer once per percent); it writes only progress and
    message, since status belongs to operation_run. 100 is left for "succeeded". Progress never
    moves backwards, whatever order reports arrive in (a watcher thread and the runner both
    report): the database keeps the greater figure. `percent` None says "no figure" (the page
    shows a spinner) and changes only the message.
    """
    fields = {}
    if message:
        op.message = fields["message"] = message[:500]
    if percent is not None:
        value = max(0, min(99, int(percent)))
        op.progress = max(op.progress or 0, value)
        fields["progress"] = Greatest(Coalesce(F("progress"), value), value)
    if fields:
        Operation.objects.filter(pk=op.pk, status=Status.RUNNING).update(**fields)
        _publish(op)


class _Watch(threading.Thread):
    """The runner's eyes while a libvirt call that has no progress and no abort (a volume copy,
    an allocation) blocks its thread: once a second it reports `read()` (a fraction, or None when
    nothing can be told) within the operation's span, and acknowledges a cancel request in the
    message, since the cancel itself can only take effect when the call returns."""

    def __init__(self, op, read, *, span, label, interval):
        super().__init__(daemon=True)
        self.op, self.read, self.span, self.label, self.interval = op, read, span, label, interval
        self.done = threading.Event()

    def run(self):
        noted, ticks = False, 0
        try:
            # A few quick looks first, so that a call of a second or two still shows a figure.
            while not self.done.wait(self.interval / 4 if ticks < 4 else self.interval):
                ticks += 1
                fraction = self.read() if self.read is not None else None
                if fraction is not None:
                    low, high = self.span
                    operation_progress(self.op, low + (high - low) * min(1.0, max(0.0, fraction)), self.label)
                if not noted and (who := operation_cancel_requested(self.op)):
                    noted = True
                    operation_progress(
                        self.op,
                        None,
                        f"Cancel asked by {who}: libvirt cannot stop this step midway, so what it makes "
                        "is removed as soon as it ends.",
                    )
        except Exception:  # noqa: BLE001 — progress is a nicety; the call's own result decides
            log.debug("progress watch of operation %s stopped", self.op.pk, exc_info=True)
        finally:
            db_connection.close()  # this thread's own database connection

    def stop(self):
        self.done.set()
        self.join(timeout=self.interval + 5)


@contextmanager
def operation_watch(op, read=None, *, span=(0, 99), label="", interval=1.0):
    """`with operation_watch(op, read, span=(10, 90), label="copying vda"):` around a blocking
    call: progress from `read()` while it runs, a cancel acknowledged (see _Watch). Follow it with
    operation_check_cancel(op), once the undo knows what the call made."""
    watch = _Watch(op, read, span=span, label=label, interval=interval)
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()


CANCEL_TTL = 24 * 3600  # a cancel flag outlives any run; Redis drops it afterwards


@cache
def _redis(url):
    return redis.Redis.from_url(url)


def _cancel_key(op_id):
    return f"kvmweb:operation-cancel:{op_id}"


def _actor_name(actor):
    return actor.get_username() if actor is not None and actor.is_authenticated else "the system"


def operation_cancel(*, actor, op):
    """Ask for an operation to stop. The caller authorizes: it knows which right the work needs
    (the task center's view, storage's transfer_cancel) and whether the runner is cancellable.

    The request is audited ("operation.cancel", who asked). A queued operation ends cancelled at
    once (its task then finds it no longer queued; inputs waiting for it are dropped as when the
    guard refuses). A running one gets a flag in Redis (no schema change, and workers read it
    cheaply between steps) that its runner checks with operation_check_cancel and answers by
    undoing what it made and raising OperationCancelled: the same cleanup as a failure.
    """
    who = _actor_name(actor)
    with transaction.atomic():
        op = Operation.objects.select_for_update().get(pk=op.pk)
        if op.finished:
            return op
        record("operation.cancel", Outcome.REQUESTED, actor=actor, target=op, params={"kind": op.kind}, operation=op)
        if op.status == Status.QUEUED:
            _finish(op, Status.CANCELLED, error=f"Cancelled by {who} before it started.")
            _cleanup(op)
            return op
    if op.status == Status.RUNNING:
        _redis(settings.REDIS_URL).set(_cancel_key(op.pk), who, ex=CANCEL_TTL)
        operation_progress(op, None, f"Cancel asked by {who}; stopping.")
    return op


def _cleanup(op):
    """Inputs that wait for a runner outside the database (a secret's value in Redis, a submitted
    XML text) are dropped when no runner will take them."""
    try:
        cleanup = runners.get(op.kind).cleanup
    except runners.UnknownKind:
        return
    if cleanup is not None:
        try:
            cleanup(op)
        except Exception:  # noqa: BLE001 — the operation has ended; log and go on
            log.exception("cleanup of operation %s (%s) failed", op.pk, op.kind)


def operation_cancel_requested(op):
    """Who asked to cancel this running operation, or "" when nobody did."""
    value = _redis(settings.REDIS_URL).get(_cancel_key(op.pk))
    return value.decode() if value else ""


def operation_check_cancel(op, detail=""):
    """Raise OperationCancelled ("Cancelled by alice<detail>.") when a cancel was asked for; a
    runner calls it between steps, after recording what it made so its undo removes that too."""
    who = operation_cancel_requested(op)
    if who:
        raise OperationCancelled(f"Cancelled by {who}{detail}.")


def _limit(op):
    """A run's hard time limit: its runner's (long work declares one) or the default task's."""
    try:
        limit = runners.get(op.kind).time_limit
    except runners.UnknownKind:
        limit = None
    return int(limit or settings.CELERY_TASK_TIME_LIMIT)


def _lost_message(op, limit=None):
    past = f", and it is now past its time limit ({limit} s)" if limit else ""
    return (
        f"The worker running it stopped (killed or crashed) before it ended{past}. How far it got is "
        f"unknown: check {op.target_name}'s state before trying again."
    )


def operations_reap_stale(now=None):
    """End operations no worker will finish (the beat runs it every minute):

    - running past their own hard time limit (plus a minute's grace): their worker was killed,
      crashed or cut off at that limit without writing an end, so they end lost, with an audit
      record; that also releases what a running operation holds (the new VM's name, the host's
      removal waits for it, the monitor reading changes as its doing);
    - queued for an hour with nobody consuming the host's queue: failed.

    `now` lets a test stand the clock past the limit."""
    now = now or timezone.now()
    queued_cutoff = now - timedelta(hours=1)
    # Few operations run at once (one per worker slot), so each is judged by its own limit here.
    lost = [
        op
        for op in Operation.objects.filter(status=Status.RUNNING, started_at__isnull=False)
        if op.started_at < now - timedelta(seconds=_limit(op) + GRACE)
    ]
    orphans = list(Operation.objects.filter(status=Status.QUEUED, created_at__lt=queued_cutoff))
    ended = 0
    for op in lost + orphans:
        with transaction.atomic():
            op = Operation.objects.select_for_update().get(pk=op.pk)
            if op.status == Status.RUNNING:
                _finish(op, LOST, error=_lost_message(op, _limit(op)))
                _cleanup(op)
            elif op.status == Status.QUEUED:
                _finish(op, Status.FAILED, error="No worker picked this operation up.")
                _cleanup(op)
            else:
                continue
            ended += 1
    return ended
