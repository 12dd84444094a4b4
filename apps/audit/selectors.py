"""Which audit events a user may read, as a query (never a filter over fetched rows).

An event is about a target; a user may read it when they may view that target — on the object
itself, or on the host that holds it (grants reach downward) — or when they are its actor.
Auditors (audit.view everywhere) read everything. Events of a type nobody registered fall back to
"host.view on the event's host"; events about users, teams and roles are for auditors only.
"""

from django.db.models import Q

from apps.authz.rights import has_global, scope_ids

from .models import AuditEvent
from .present import fold

# target_type -> the permission that lets a user view such a target. Apps with new kinds of
# target (volumes, secrets…) may add theirs with register_target_type().
_target_permissions = {
    "host": "host.view",
    "vm": "vm.view",
    "network": "network.view",
    "pool": "storage.view",
}
ACCOUNT_TYPES = {"user", "team", "role"}


def register_target_type(target_type, permission):
    if _target_permissions.get(target_type, permission) != permission:
        raise RuntimeError(f"audit target type {target_type!r} registered with two permissions")
    _target_permissions[target_type] = permission


def view_permission(target_type):
    """The right that lets a user see a target of this type, or None (accounts, the audit log)."""
    return _target_permissions.get(target_type)


def target_types():
    return sorted(set(_target_permissions) | ACCOUNT_TYPES)


def _visible_of_type(ids, target_type, permission):
    host_ids = ids(permission, "host")
    if host_ids is None:
        return Q(target_type=target_type)
    allowed = Q(host_id__in=host_ids) if host_ids else Q(pk__in=[])
    if target_type != "host":
        own_ids = ids(permission, target_type)
        if own_ids:
            allowed |= Q(target_id__in=[str(pk) for pk in own_ids])
    return Q(target_type=target_type) & allowed


def visibility_q(user):
    """The condition (a Q) for the events `user` may read, or None for all of them."""
    if has_global(user, "audit.view"):
        return None
    if not (user and user.is_authenticated):
        return Q(pk__in=[])
    cache = {}

    def ids(permission, scope_type):
        if (permission, scope_type) not in cache:
            cache[permission, scope_type] = scope_ids(user, permission, scope_type)
        return cache[permission, scope_type]

    q = Q(actor_id=user.pk)
    for target_type, permission in _target_permissions.items():
        q |= _visible_of_type(ids, target_type, permission)
    other = ~Q(target_type__in=[*_target_permissions, *ACCOUNT_TYPES]) & Q(host_id__isnull=False)
    host_ids = ids("host.view", "host")
    q |= other if host_ids is None else other & Q(host_id__in=host_ids or [-1])
    return q


def events_visible(user):
    q = visibility_q(user)
    return AuditEvent.objects.all() if q is None else AuditEvent.objects.filter(q)


def outcomes_by_operation(user, rows):
    """The outcome record (succeeded, failed or cancelled) of each operation requested in `rows`,
    for the page to show beside its request."""
    ids = {e.operation_id for e in rows if e.operation_id and e.outcome == "requested"}
    if not ids:
        return {}
    qs = events_visible(user).filter(operation_id__in=ids, outcome__in=["succeeded", "failed", "cancelled"]).order_by("id")
    return {e.operation_id: e for e in qs}


def requested_in(qs, rows):
    """Ids of the operations among `rows` whose request record is in `qs` (the filtered log):
    their outcome is shown on the request's line, not on a line of its own."""
    ids = {e.operation_id for e in rows if e.operation_id and e.outcome != "requested"}
    if not ids:
        return set()
    return set(qs.filter(operation_id__in=ids, outcome="requested").values_list("operation_id", flat=True))


def lines(user, qs, rows):
    """The page's records as one line per action (see apps.audit.present)."""
    return fold(rows, outcomes_by_operation(user, rows), requested_in(qs, rows))
