"""The one answer to "may this user do this to this object".

Objects take part by offering `authz_scopes()`: the (type, id) pairs that contain them, the
object itself first (a VM gives ("vm", id), ("host", host_id)). A grant on any of them, or a
global grant, whose role holds the permission, allows.
"""

from django.core.exceptions import PermissionDenied

from .models import Grant, Role

VIEW = {"host.view", "vm.view", "operation.view"}
ROLE_PERMISSIONS = {
    Role.VIEWER: VIEW,
    Role.OPERATOR: VIEW | {"vm.power"},
    Role.ADMIN: None,  # every permission
}


def roles_with(permission):
    return [r for r, perms in ROLE_PERMISSIONS.items() if perms is None or permission in perms]


def _grants(user, permission):
    return Grant.objects.filter(user=user, role__in=roles_with(permission))


def has_global(user, permission):
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return _grants(user, permission).filter(scope_type=Grant.GLOBAL).exists()


def may(user, permission, obj=None):
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    scopes = obj.authz_scopes() if obj is not None else []
    grants = _grants(user, permission)
    for scope_type, scope_id in [(Grant.GLOBAL, None), *scopes]:
        if grants.filter(scope_type=scope_type, scope_id=scope_id).exists():
            return True
    return False


def authorize(user, permission, obj=None, *, audit=True):
    """Raise PermissionDenied unless allowed; a refusal is recorded in the audit log."""
    if may(user, permission, obj):
        return
    if audit:
        from apps.audit.services import record_denied

        record_denied(actor=user, permission=permission, target=obj)
    raise PermissionDenied(f"You may not {permission} on this object.")


def scope_ids(user, permission, scope_type):
    """Ids of objects of one scope type the user holds `permission` on, or None for all.

    Lists filter by this in their query instead of checking row by row.
    """
    if has_global(user, permission):
        return None
    if not (user and user.is_authenticated):
        return set()
    return set(_grants(user, permission).filter(scope_type=scope_type).values_list("scope_id", flat=True))
