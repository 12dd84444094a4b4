from django.db.models import Q

from apps.authz.rights import rights

from . import runners
from .models import FAILURES, Operation, Status


def visibility_q(user):
    """The condition for the operations `user` may see, or None for all: their own, and those
    whose host or target they hold operation.view on (the scopes Operation.authz_scopes names)."""
    held = rights(user, "operation.view")
    if held.everything:
        return None
    q = Q(actor_id=user.pk) if user is not None and user.is_authenticated else Q(pk__in=[])
    by_type = {}
    for scope_type, scope_id in held.scopes:
        by_type.setdefault(scope_type, set()).add(scope_id)
    if hosts := by_type.pop("host", None):
        q |= Q(host_id__in=sorted(hosts))
    for scope_type, ids in sorted(by_type.items()):
        q |= Q(target_type=scope_type, target_id__in=sorted(str(pk) for pk in ids))
    return q


def operations_visible(user):
    q = visibility_q(user)
    return Operation.objects.all() if q is None else Operation.objects.filter(q)


def unseen_failures(user):
    """How many of the user's own failed operations they have not opened yet."""
    if user is None or not user.is_authenticated:
        return 0
    return Operation.objects.filter(actor=user, status__in=FAILURES, failure_seen=False).count()


def steps_of(op):
    """The step log in order, each step with `offset`: seconds since the operation started (or,
    for one that never started, since it was queued)."""
    origin = op.started_at or op.created_at
    rows = list(op.steps.all())
    for step in rows:
        step.offset = (step.at - origin).total_seconds()
        step.offset_text = f"{step.offset:+.3f} s"
    return rows


def may_cancel(user, op, memo=None):
    """Whether to offer Cancel: a queued operation always stops; a running one only where its
    runner checks for a cancel request. Who may: the person who asked, or anyone holding the
    runner's permission on it (`memo`, permission -> Rights, saves a read per row of a page)."""
    try:
        runner = runners.get(op.kind)
    except runners.UnknownKind:
        return False
    if op.status == Status.RUNNING:
        if not getattr(runner, "cancellable", False):
            return False
    elif op.status != Status.QUEUED:
        return False
    if op.actor_id is not None and op.actor_id == user.pk:
        return True
    memo = {} if memo is None else memo
    if runner.permission not in memo:
        memo[runner.permission] = rights(user, runner.permission)
    return memo[runner.permission].allows(op)
