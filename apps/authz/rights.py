"""The one answer to "may this user do this to this object".

Objects take part by offering `authz_scopes()`: the (type, id) pairs that contain them, the object
itself first (a VM gives ("vm", id), ("host", host_id)). A grant to the user or to one of their teams,
on any of those scopes or globally, whose role holds the permission, allows. Superusers may do all.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import Grant, Role
from .permissions import PERMISSIONS


class Rights:
    """What one user holds for one permission, loaded in two queries, then answered in memory —
    so a list can ask for every row without a query per row."""

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
        roles = [r.pk for r in Role.objects.all() if r.holds(permission)]
        grants = Grant.objects.filter(Q(user=user) | Q(team__members=user), role__in=roles)
        for scope_type, scope_id in grants.values_list("scope_type", "scope_id"):
            if scope_type == Grant.GLOBAL:
                self.everything = True
            self.scopes.add((scope_type, scope_id))

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
    """Register `hook(actor=, permission=, target=)`, called for every audited refusal. The audit
    app registers its recorder here, so authz stays below audit and knows nothing of it."""
    _denial_hooks.append(hook)
    return hook


def authorize(user, permission, obj=None, *, audit=True):
    """Raise PermissionDenied unless allowed; a refusal is recorded in the audit log."""
    if may(user, permission, obj):
        return
    if audit:
        for hook in _denial_hooks:
            hook(actor=user, permission=permission, target=obj)
    raise PermissionDenied(f"You may not {PERMISSIONS[permission].lower()} here.")


def scope_ids(user, permission, scope_type):
    """Ids of objects of one scope type the user holds `permission` on, or None for all.

    Lists filter by this in their query instead of checking row by row.
    """
    return Rights(user, permission).ids(scope_type)
