"""Who can give a user rights, and whether a user has been given any: what a refusal, an empty
list and an account with no grants tell the person in front of them.

Granting is user.manage held everywhere (a global grant, directly or through a team) or being a
superuser; those people are named, so the reader knows whom to ask.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Grant, Role
from .permissions import ALL, phrase
from .rights import held, may


def granters():
    """Names of the active users who may grant rights, sorted (full name where one is set)."""
    roles = [role.pk for role in Role.objects.all() if ALL in role.permissions or "user.manage" in role.permissions]
    global_grants = Grant.objects.filter(role__in=roles, scope_type=Grant.GLOBAL)
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(pk__in=global_grants.filter(user__isnull=False).values("user"))
            | Q(teams__in=global_grants.filter(team__isnull=False).values("team"))
        )
    )
    return sorted({user.get_full_name() or user.get_username() for user in users}, key=str.lower)


def has_no_access(user):
    """True for a signed-in account that holds no grant at all (a superuser holds everything)."""
    if not (user and user.is_authenticated) or user.is_superuser:
        return False
    return not held(user).rows


@dataclass(frozen=True)
class ReadOnly:
    label: str  # "Viewer on demo"
    why: str  # the sentence shown on hover over the badge and the disabled controls


def read_only_reason(user, obj, permission):
    """Why this user may look at `obj` but not do `permission` to it: the grants that let them
    look ("Viewer on demo") and the missing right in plain words; None when they may do it."""
    if not (user and user.is_authenticated) or may(user, permission, obj):
        return None
    scopes = set(obj.authz_scopes()) | {(Grant.GLOBAL, None)}
    grants = Grant.objects.filter(Q(user=user) | Q(team__members=user)).select_related("role")
    names = sorted(
        {
            f"{g.role.name} on {g.scope_name or g.scope_id}"
            if g.scope_type != Grant.GLOBAL
            else f"{g.role.name} on everything"
            for g in grants
            if (g.scope_type, g.scope_id) in scopes
        }
    )
    label = ", ".join(names) or "no role here"
    who = ", ".join(granters()) or "whoever runs this installation"
    why = f"Your role does not let you {phrase(permission)} here. Ask {who}."
    return ReadOnly(label, why)
