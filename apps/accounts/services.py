"""Every change to users, teams, roles and grants: authorized, audited, one function each."""

import secrets
from functools import wraps

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.authz.models import Grant, Role
from apps.authz.permissions import ALL, PERMISSIONS
from apps.authz.rights import authorize
from apps.core import realtime

from .forms import validate_display_name
from .models import Team, User

for _code, _label in {
    "user.create": "created user",
    "user.update": "changed user",
    "user.password": "set the password of",
    "user.logout_everywhere": "signed out everywhere",
    "team.create": "created team",
    "team.update": "changed team",
    "team.delete": "deleted team",
    "team.member_add": "added a member to team",
    "team.member_remove": "removed a member from team",
    "role.create": "created role",
    "role.update": "changed role",
    "role.delete": "deleted role",
    "grant.add": "granted a role",
    "grant.remove": "revoked a role",
}.items():
    registry.register(_code, _label)


class AccountError(ValueError):
    """A request that cannot be done as asked; the message is for the user."""


def _check_display_name(name):
    """The forms' rule for team and role names, here too: the API and commands call the services
    without a form, and a name with a line break would still reach lists, pickers and exports."""
    try:
        validate_display_name(name)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from None


def _manage(actor):
    if actor is not None:
        authorize(actor, "user.manage")


def _grant_holders(grant):
    return [grant.user_id] if grant.user_id else list(grant.team.members.values_list("pk", flat=True))


def _rights_changed(user_ids):
    """Open pages of these users reconnect their live socket, which rejoins with the rights as
    they are now (a revoked grant must stop the fragments it allowed)."""
    realtime.close_sockets_on_commit(user_ids, reason="Your rights changed.")


def _managed(fn):
    """Check user.manage, then run the change in a transaction. The check stays outside the
    transaction so that a refusal's audit record is not rolled back with it."""

    @wraps(fn)
    def wrapper(*, actor, **kwargs):
        _manage(actor)
        with transaction.atomic():
            return fn(actor=actor, **kwargs)

    return wrapper


class _Target:
    """Adapts accounts objects (which know nothing of hosts) to the audit target protocol."""

    def __init__(self, kind, obj, name=None):
        self.kind, self.obj, self.name = kind, obj, name or str(obj)

    def audit_target(self):
        return {"target_type": self.kind, "target_id": self.obj.pk, "target_name": self.name, "host_id": None}


class _ScopeTarget:
    """A granted-on object known only by type, id and name (it may be gone)."""

    def __init__(self, kind, pk, name):
        self.kind, self.pk, self.name = kind, pk, name

    def audit_target(self):
        return {"target_type": self.kind, "target_id": self.pk, "target_name": self.name, "host_id": None}


# -- users ------------------------------------------------------------------------------------------


@_managed
def user_create(*, actor, username, password=None, email="", superuser=False):
    """Create a user; returns (user, password). A generated password is shown once only."""
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"A user named {username!r} already exists.")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if not generated:
        validate_password(password)
    user = User(username=username, email=email, is_superuser=superuser, is_staff=superuser)
    user.set_password(password)
    user.save()
    record("user.create", Outcome.SUCCEEDED, actor=actor, target=_Target("user", user), params={"superuser": superuser})
    return user, password


@_managed
def user_update(*, actor, user, **fields):
    allowed = {"email", "first_name", "last_name", "is_active"}
    if set(fields) - allowed:
        raise AccountError(f"cannot change {sorted(set(fields) - allowed)}")
    if actor is not None and user == actor and fields.get("is_active") is False:
        raise AccountError("You cannot deactivate yourself.")
    before = {k: getattr(user, k) for k in fields}
    for k, v in fields.items():
        setattr(user, k, v)
    user.save(update_fields=list(fields))
    if fields.get("is_active") is False:
        User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
        realtime.close_sockets_on_commit([user.pk], reason="Your account was deactivated.", code=realtime.ENDED)
    changed = {k: {"before": before[k], "after": v} for k, v in fields.items() if before[k] != v}
    record("user.update", Outcome.SUCCEEDED, actor=actor, target=_Target("user", user), params={"changed": changed})
    return user


def user_set_password(*, actor, user, password):
    if actor is None or actor != user:
        _manage(actor)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # Other sessions end with the old password; the one that changed it (if any) reconnects.
        realtime.close_sockets_on_commit([user.pk], reason="The password was changed.")
        record("user.password", Outcome.SUCCEEDED, actor=actor, target=_Target("user", user))


def user_logout_everywhere(*, actor, user):
    """End every session of the user (their current one included)."""
    if actor is None or actor != user:
        _manage(actor)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
        realtime.close_sockets_on_commit([user.pk], reason="You were signed out everywhere.", code=realtime.ENDED)
        record("user.logout_everywhere", Outcome.SUCCEEDED, actor=actor, target=_Target("user", user))


# -- teams ------------------------------------------------------------------------------------------

QUOTA_FIELDS = ("max_vms", "max_vcpus", "max_memory_mib", "max_disk_gib")


@_managed
def team_create(*, actor, name, description="", **quotas):
    _check_display_name(name)
    if Team.objects.filter(name__iexact=name).exists():
        raise AccountError(f"A team named {name!r} already exists.")
    team = Team.objects.create(name=name, description=description, **quotas)
    record("team.create", Outcome.SUCCEEDED, actor=actor, target=_Target("team", team), params={"quotas": quotas})
    return team


@_managed
def team_update(*, actor, team, **fields):
    allowed = {"name", "description", *QUOTA_FIELDS}
    if set(fields) - allowed:
        raise AccountError(f"cannot change {sorted(set(fields) - allowed)}")
    if "name" in fields:
        _check_display_name(fields["name"])
    before = {k: getattr(team, k) for k in fields}
    for k, v in fields.items():
        setattr(team, k, v)
    team.save(update_fields=list(fields))
    changed = {k: {"before": before[k], "after": v} for k, v in fields.items() if before[k] != v}
    record("team.update", Outcome.SUCCEEDED, actor=actor, target=_Target("team", team), params={"changed": changed})
    return team


@_managed
def team_delete(*, actor, team):
    target = _Target("team", team)
    record("team.delete", Outcome.SUCCEEDED, actor=actor, target=target, params={"members": team.members.count()})
    _rights_changed(team.members.values_list("pk", flat=True))
    team.delete()


@_managed
def team_member_add(*, actor, team, user):
    team.members.add(user)
    _rights_changed([user.pk])
    record(
        "team.member_add",
        Outcome.SUCCEEDED,
        actor=actor,
        target=_Target("team", team),
        params={"user": user.get_username()},
    )


@_managed
def team_member_remove(*, actor, team, user):
    team.members.remove(user)
    _rights_changed([user.pk])
    record(
        "team.member_remove",
        Outcome.SUCCEEDED,
        actor=actor,
        target=_Target("team", team),
        params={"user": user.get_username()},
    )


# -- roles ------------------------------------------------------------------------------------------


def _clean_permissions(permissions):
    unknown = set(permissions) - set(PERMISSIONS) - {ALL}
    if unknown:
        raise AccountError(f"Unknown permissions: {', '.join(sorted(unknown))}")
    if not permissions:
        raise AccountError("A role needs at least one permission.")
    return sorted(set(permissions))


@_managed
def role_create(*, actor, name, permissions, description=""):
    _check_display_name(name)
    if Role.objects.filter(name__iexact=name).exists():
        raise AccountError(f"A role named {name!r} already exists.")
    role = Role.objects.create(name=name, description=description, permissions=_clean_permissions(permissions))
    record(
        "role.create",
        Outcome.SUCCEEDED,
        actor=actor,
        target=_Target("role", role),
        params={"permissions": role.permissions},
    )
    return role


@_managed
def role_update(*, actor, role, permissions=None, description=None):
    if role.builtin:
        raise AccountError("Built-in roles cannot be changed; make a custom role instead.")
    before = list(role.permissions)
    if permissions is not None:
        role.permissions = _clean_permissions(permissions)
    if description is not None:
        role.description = description
    role.save()
    holders = Grant.objects.filter(role=role)
    _rights_changed([uid for g in holders.select_related("team") for uid in _grant_holders(g)])
    params = {"permissions": {"before": before, "after": role.permissions}}
    record("role.update", Outcome.SUCCEEDED, actor=actor, target=_Target("role", role), params=params)
    return role


@_managed
def role_delete(*, actor, role):
    if role.builtin:
        raise AccountError("Built-in roles cannot be deleted.")
    if role.grants.exists():
        raise AccountError(f"Role {role.name!r} is still granted {role.grants.count()} time(s); revoke those first.")
    record("role.delete", Outcome.SUCCEEDED, actor=actor, target=_Target("role", role))
    role.delete()


# -- grants -----------------------------------------------------------------------------------------


def _role(role):
    if isinstance(role, Role):
        return role
    try:
        return Role.objects.get(name=role)
    except Role.DoesNotExist:
        raise AccountError(f"No role named {role!r}.") from None


@_managed
def grant_add(*, actor, role, user=None, team=None, scope=None):
    """Give a user or a team a role, globally (scope None) or on one object with authz_scopes()."""
    if (user is None) == (team is None):
        raise AccountError("A grant goes to exactly one user or one team.")
    role = _role(role)
    if scope is None:
        scope_type, scope_id, scope_name = Grant.GLOBAL, None, ""
    else:
        (scope_type, scope_id), scope_name = scope.authz_scopes()[0], str(scope)
    grant, created = Grant.objects.get_or_create(
        user=user, team=team, role=role, scope_type=scope_type, scope_id=scope_id, defaults={"scope_name": scope_name}
    )
    if created:
        _rights_changed(_grant_holders(grant))
        principal = f"user {user.get_username()}" if user else f"team {team.name}"
        params = {"to": principal, "role": role.name, "scope": grant.scope_label}
        record("grant.add", Outcome.SUCCEEDED, actor=actor, target=scope if scope is not None else None, params=params)
    return grant


@_managed
def grant_remove(*, actor, grant):
    principal = f"user {grant.user.get_username()}" if grant.user else f"team {grant.team.name}"
    params = {"from": principal, "role": grant.role.name, "scope": grant.scope_label}
    target = None
    if grant.scope_type != Grant.GLOBAL:
        target = _ScopeTarget(grant.scope_type, grant.scope_id, grant.scope_name)
    record("grant.remove", Outcome.SUCCEEDED, actor=actor, target=target, params=params)
    _rights_changed(_grant_holders(grant))
    grant.delete()
