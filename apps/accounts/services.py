import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record

from .authz import authorize
from .models import Grant, Role

registry.register("grant.add", "granted a role")
registry.register("user.create", "created user")


def grant_add(*, actor, user, role, scope=None):
    """Give `user` a role, globally or on one object (anything with authz_scopes())."""
    if actor is not None:
        authorize(actor, "user.manage")
    scope_type, scope_id = scope.authz_scopes()[0] if scope is not None else (Grant.GLOBAL, None)
    grant, _ = Grant.objects.get_or_create(user=user, role=Role(role), scope_type=scope_type, scope_id=scope_id)
    params = {"user": user.get_username(), "role": role, "scope": f"{scope_type}:{scope_id or '*'}"}
    record("grant.add", Outcome.SUCCEEDED, actor=actor, target=scope, params=params)
    return grant


@transaction.atomic
def user_create(*, actor, username, password=None, role=None, superuser=False):
    """Create a user; returns (user, password) — the generated password is shown once only."""
    if actor is not None:
        authorize(actor, "user.manage")
    password = password or secrets.token_urlsafe(12)
    model = get_user_model()
    if superuser:
        user = model.objects.create_superuser(username=username, password=password)
    else:
        user = model.objects.create_user(username=username, password=password)
    record("user.create", Outcome.SUCCEEDED, actor=actor, params={"username": username, "superuser": superuser})
    if role:
        grant_add(actor=actor, user=user, role=role)
    return user, password
