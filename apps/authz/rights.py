"""The one answer to "may this user do this to this object".

Objects take part by offering `authz_scopes()`: the (type, id) pairs that contain them, the object
itself first (a VM gives ("vm", id), ("host", host_id)). A grant to the user or to one of their teams,
on any of those scopes or globally, whose role holds the permission, allows. Superusers may do all.

What a user holds is read in one query. Inside a unit of work — one request (RightsCacheMiddleware)
or one live event rendered for one subscriber (core.realtime enters `rights_cache` around it) — it
is read once and every later question is answered in memory, so a page or a pushed fragment costs
the same number of queries whatever the number of grants and questions. Outside such a unit (a
task, a command, a test's own code) every question reads afresh. A unit never outlives its request
or event, so a revoked grant counts from the next one; a grant or role changed inside the unit
itself empties the memo too.
"""

import contextvars
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save

from apps.core import realtime

from .models import Grant, Role
from .permissions import ALL, PERMISSIONS, phrase

# user pk -> Held, for the unit of work in progress; None outside one.
_memo = contextvars.ContextVar("kvmweb_rights_memo", default=None)


class Held:
    """Every (role permissions, scope) a user holds, directly or through a team: one query."""

    def __init__(self, user):
        grants = Grant.objects.filter(Q(user=user) | Q(team__members=user))
        self.rows = [
            (frozenset(perms or ()), (scope_type, scope_id))
            for perms, scope_type, scope_id in grants.values_list("role__permissions", "scope_type", "scope_id")
        ]

    def scopes(self, permission):
        return {scope for perms, scope in self.rows if ALL in perms or permission in perms}


def held(user):
    """What the user holds: from the unit of work's memo when one is open, else read now."""
    memo = _memo.get()
    if memo is None:
        return Held(user)
    if user.pk not in memo:
        memo[user.pk] = Held(user)
    return memo[user.pk]


@contextmanager
def rights_cache():
    """Answer every rights question inside the block from one read per user. Nested blocks share
    the outer one's memo."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _forget(**kwargs):
    memo = _memo.get()
    if memo:
        memo.clear()


# A grant, role or team membership changed inside the unit of work (the grant pages, a test's
# request): what was read before no longer holds.
post_save.connect(_forget, sender=Grant, dispatch_uid="authz-rights-grant-saved")
post_delete.connect(_forget, sender=Grant, dispatch_uid="authz-rights-grant-deleted")
post_save.connect(_forget, sender=Role, dispatch_uid="authz-rights-role-saved")
m2m_changed.connect(_forget, dispatch_uid="authz-rights-membership")  # teams live above authz
realtime.register_event_scope(rights_cache)


class RightsCacheMiddleware:
    """One read of the user's rights per request (list it after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with rights_cache():
            return self.get_response(request)


class Rights:
    """What one user holds for one permission, answered in memory — so a list can ask for every
    row without a query per row."""

    def __init__(self, user, permission):
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        self.everything = False
        self.scopes = set()
        if not (user and user.is_authenticated and user.is_active):
            return
        if user.is_superuser:
            self.everything = True
            return
        self.scopes = held(user).scopes(permission)
        self.everything = any(scope_type == Grant.GLOBAL for scope_type, _ in self.scopes)

    def allows(self, obj=None):
        if self.everything:
            return True
        if obj is None:
            return False
        return any(scope in self.scopes for scope in obj.authz_scopes())

    def anywhere(self):
        """Held on at least one object (a page shows the controls; each object is checked again)."""
        return self.everything or bool(self.scopes)

    def ids(self, scope_type):
        """Ids of this type granted directly, or None for "all of them"."""
        if self.everything:
            return None
        return {scope_id for t, scope_id in self.scopes if t == scope_type}


def rights(user, permission):
    return Rights(user, permission)


def has_global(user, permission):
    return Rights(user, permission).everything


def may(user, permission, obj=None):
    return Rights(user, permission).allows(obj)


_denial_hooks = []


def on_denied(hook):
    """Register `hook(actor=, permission=, target=, attempt=, reason=)`, called for every audited
    refusal. The audit app registers its recorder here, so authz stays below audit and knows
    nothing of it."""
    _denial_hooks.append(hook)
    return hook


def deny(user, permission, obj=None, *, attempt="", reason=""):
    """Record a refusal through the same hooks as authorize()'s own. For a refusal decided by a
    rule beside the grants (the XML policy, a team quota): `permission` is the right the refused
    thing needed ("" when no right allows it), `attempt` the kind of work asked for, `reason`
    the words the user was shown."""
    for hook in _denial_hooks:
        hook(actor=user, permission=permission, target=obj, attempt=attempt, reason=reason)


def authorize(user, permission, obj=None, *, audit=True):
    """Raise PermissionDenied unless allowed; a refusal is recorded in the audit log."""
    if may(user, permission, obj):
        return
    if audit:
        deny(user, permission, obj)
    raise PermissionDenied(f"You may not {phrase(permission)} here.")


def scope_ids(user, permission, scope_type):
    """Ids of objects of one scope type the user holds `permission` on, or None for all.

    Lists filter by this in their query instead of checking row by row.
    """
    return Rights(user, permission).ids(scope_type)
