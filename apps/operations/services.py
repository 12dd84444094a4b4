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
from datetime import timedelta
from functools import cache

import redis
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

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

__all__ = [
    "OperationCancelled",
    "OperationError",
    "operation_cancel",
    "operation_cancel_requested",
    "operation_progress",
    "operation_queue",
    "operation_run",
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
    outcome = Outcome.SUCCEEDED if status == Status.SUCCEEDED else Outcome.FAILED
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
            # acks_late redelivered a task whose worker died mid-run: the hypervisor may or may
            # not have acted, so say so rather than act twice.
            _finish(op, Status.FAILED, error="The worker running this operation was lost; check the target's state.")
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

    Executors call it as they advance (a transfer once per percent); it writes only progress and
    message, since status belongs to operation_run. 100 is left for "succeeded".
    """
    op.progress = max(0, min(99, int(percent)))
    fields = {"progress": op.progress}
    if message:
        op.message = fields["message"] = message[:500]
    Operation.objects.filter(pk=op.pk, status=Status.RUNNING).update(**fields)
    _publish(op)


CANCEL_TTL = 24 * 3600  # a cancel flag outlives any run; Redis drops it afterwards


@cache
def _redis(url):
    return redis.Redis.from_url(url)


def _cancel_key(op_id):
    return f"kvmweb:operation-cancel:{op_id}"


def operation_cancel(*, actor, op):
    """Ask for an operation to stop. The caller authorizes: it knows which right the work needs.

    A queued operation ends cancelled at once (its task then finds it no longer queued). A running
    one gets a flag in Redis (no schema change, and workers read it cheaply between steps) that its
    executor checks with operation_cancel_requested and answers by cleaning up and raising
    OperationCancelled. Work that cannot stop midway never looks, and simply finishes.
    """
    who = actor.get_username() if actor is not None and actor.is_authenticated else "the system"
    with transaction.atomic():
        op = Operation.objects.select_for_update().get(pk=op.pk)
        if op.status == Status.QUEUED:
            _finish(op, Status.CANCELLED, error=f"Cancelled by {who} before it started.")
            return op
    if op.status == Status.RUNNING:
        _redis(settings.REDIS_URL).set(_cancel_key(op.pk), who, ex=CANCEL_TTL)
    return op


def operation_cancel_requested(op):
    """Who asked to cancel this running operation, or "" when nobody did."""
    value = _redis(settings.REDIS_URL).get(_cancel_key(op.pk))
    return value.decode() if value else ""


def _within_own_limit(op, now):
    """Long work (transfers, clones) declares its own limit on its runner and is not stale just
    because it outlasts the default task limit."""
    try:
        limit = runners.get(op.kind).time_limit
    except runners.UnknownKind:
        limit = None
    return bool(limit) and op.started_at >= now - timedelta(seconds=int(limit) + 60)


def operations_reap_stale():
    """Fail operations no worker will finish: running past the hard time limit, or queued for
    an hour with nobody consuming the host's queue."""
    now = timezone.now()
    running_cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    queued_cutoff = now - timedelta(hours=1)
    running = Operation.objects.filter(status=Status.RUNNING, started_at__lt=running_cutoff)
    stale = [op for op in running if not _within_own_limit(op, now)] + list(
        Operation.objects.filter(status=Status.QUEUED, created_at__lt=queued_cutoff)
    )
    for op in stale:
        with transaction.atomic():
            reason = (
                "No worker finished this operation in time."
                if op.status == Status.RUNNING
                else "No worker picked this operation up."
            )
            _finish(op, Status.FAILED, error=reason)
    return len(stale)
