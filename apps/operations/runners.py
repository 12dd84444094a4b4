"""The runner registry: one runner per operation kind, found by kind on the worker.

A service names the kind of work it queues and never imports the code that does it; each app's
`runs/` package registers a runner per kind with what the worker needs to know before it acts:

    @runner("vm.start", "vm.shutdown", permission="vm.power", target=VirtualMachine)
    def power(op, vm): ...

- `permission`: the right the requester must still hold on the target when the work starts (it
  may have been revoked while the operation waited in the queue);
- `target`: the model the operation's target_id names (loaded with `related`), or a function
  `(op) -> object` for targets that are not rows of one model;
- `policy`: an optional check `(op, target)` run on the worker before the runner (the XML policy:
  what a user may put in a definition can change between the request and the run); it raises
  OperationError with a message for the person;
- `soft_time_limit` / `time_limit`: seconds, for work that outlasts the default task limit (the
  stale-operation reaper honours them too);
- `cleanup`: called with the operation when the guard refuses it, for inputs that wait outside
  the database for the runner (a secret's value in Redis);
- `private`: params the row keeps for the runner (a submitted XML text) that the outcome's audit
  record must not carry;
- `cancellable`: the runner honours a cancel while it runs (it checks operation_cancel_requested
  and undoes what it made); the task center offers Cancel on a running operation only then. A
  queued operation of any kind can always be cancelled: no worker has touched it yet.

The guard that uses all this runs once for every kind, in operations.services.operation_run.
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.audit import registry as audit_actions
from apps.authz.permissions import PERMISSIONS
from apps.authz.rights import authorize
from apps.core.errors import OperationError


class UnknownKind(OperationError, LookupError):
    """No runner for this kind: a programming error in the request, a refusal on the worker."""


@dataclass(frozen=True)
class Runner:
    kind: str
    run: Callable
    permission: str
    target: object
    related: tuple = ()
    policy: Callable | None = None
    soft_time_limit: int | None = None
    time_limit: int | None = None
    private: tuple = ()
    cleanup: Callable | None = None
    cancellable: bool = False

    def load(self, op):
        """The operation's target, or None when it is gone."""
        if isinstance(self.target, type):
            manager = self.target._default_manager
            if self.related:
                manager = manager.select_related(*self.related)
            if not str(op.target_id).isdigit():
                return None
            return manager.filter(pk=int(op.target_id)).first()
        return self.target(op)


_runners: dict[str, Runner] = {}


def runner(
    *kinds,
    permission,
    target,
    related=(),
    policy=None,
    soft_time_limit=None,
    time_limit=None,
    private=(),
    cleanup=None,
    cancellable=False,
):
    """Register the decorated function `(op, target) -> message` as the runner of `kinds`."""
    if soft_time_limit and not time_limit:
        time_limit = soft_time_limit + 60
    if permission not in PERMISSIONS:
        raise KeyError(f"runner for {kinds} names unknown permission {permission!r}")

    def deco(fn):
        for kind in kinds:
            audit_actions.get(kind)  # the outcome record needs it, in the worker's process too
            if kind in _runners:
                raise RuntimeError(f"operation kind {kind!r} has two runners")
            _runners[kind] = Runner(
                kind=kind,
                run=fn,
                permission=permission,
                target=target,
                related=tuple(related),
                policy=policy,
                soft_time_limit=soft_time_limit,
                time_limit=time_limit,
                private=tuple(private),
                cleanup=cleanup,
                cancellable=cancellable,
            )
        return fn

    return deco


def get(kind):
    try:
        return _runners[kind]
    except KeyError:
        raise UnknownKind(f"No runner is registered for operations of kind {kind!r}.") from None


def audited_params(op):
    """The operation's params as its outcome record may show them."""
    try:
        private = get(op.kind).private
    except UnknownKind:
        private = ()
    return {k: v for k, v in (op.params or {}).items() if k not in private}


def kinds():
    return sorted(_runners)


def require(op, permission, obj):
    """A further right the work needs on another object its input names (a pool a new disk goes
    to, the volumes a delete removes), checked again on the worker like the runner's own."""
    if op.actor is not None:
        authorize(op.actor, permission, obj)
