"""The step log: what the worker did for an operation, in order, with times.

Runners call `operation_step(op, "Copying vda (2 GiB)")` as they go; operation_run records the
start, the guard's answer and the end. A step is one INSERT and a live nudge to the operation's
page. It never breaks the work it describes: a failed write is logged and forgotten, and inside a
transaction it sits in a savepoint of its own, so a failure cannot poison the runner's
transaction either.
"""

import logging
import socket

from django.db import DatabaseError, connection, transaction

from apps.core import realtime

from .models import OperationStep, Status, StepLevel

log = logging.getLogger(__name__)

LEVELS = set(StepLevel.values)


def operation_step(op, text, *, level=StepLevel.INFO):
    """Append a line to `op`'s step log; returns the step, or None when it could not be written."""
    try:
        level = level if level in LEVELS else StepLevel.INFO
        fields = {"operation_id": op.pk, "text": str(text)[:500], "level": level}
        if connection.in_atomic_block:
            with transaction.atomic():
                step = OperationStep.objects.create(**fields)
        else:
            step = OperationStep.objects.create(**fields)
        if op.host_id is not None:
            realtime.publish_on_commit(realtime.host_group(op.host_id), "operation_step", id=op.pk)
        return step
    except (DatabaseError, ValueError, TypeError):
        log.warning("could not record a step of operation %s", getattr(op, "pk", None), exc_info=True)
        return None


# -- the steps operation_run records for every kind -------------------------------------------------


def _worker_name():
    try:
        from celery import current_task

        hostname = current_task.request.hostname if current_task else None
    except Exception:  # noqa: BLE001 — only a label
        hostname = None
    return hostname or socket.gethostname()


def started(op):
    operation_step(op, f"Started on {_worker_name()}.")


def checked(op, runner):
    """The guard let it through: say what it checked, so a later refusal reads differently."""
    if op.actor_id is None:
        operation_step(op, f"Checked: {op.target_name} exists.")
    else:
        operation_step(op, f"Checked: {op.target_name} exists and {op.actor_name} still holds {runner.permission}.")


def refused(op, exc):
    operation_step(op, f"Refused before starting: {exc}", level=StepLevel.ERROR)


def ended(op):
    """The last line, whatever ended it (the runner, a cancel while queued, the reaper), and the
    toast for the person who asked (apps/operations/notify.py)."""
    from .notify import notify_ended

    if op.status == Status.SUCCEEDED:
        operation_step(op, f"Succeeded: {op.message}" if op.message else "Succeeded.")
    elif op.status == Status.CANCELLED:
        operation_step(op, f"Cancelled: {op.error}" if op.error else "Cancelled.", level=StepLevel.WARNING)
    else:
        operation_step(op, f"{str(op.status).capitalize()}: {op.error}", level=StepLevel.ERROR)
    notify_ended(op)
