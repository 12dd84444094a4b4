from django.apps import AppConfig
from django.db.models.signals import post_migrate


def sync_builtin_roles(sender, **kwargs):
    """Built-in roles follow the code on every migrate (and after test flushes)."""
    from .models import Role
    from .permissions import BUILTIN_ROLES

    for name, (description, permissions) in BUILTIN_ROLES.items():
        Role.objects.update_or_create(
            name=name, defaults={"description": description, "permissions": permissions, "builtin": True}
        )


class AuthzConfig(AppConfig):
    """Roles, grants, `authorize()` and scopes: the bottom of the stack after core, so every app
    (audit included) can ask "may this user do this" without importing the apps that manage users."""

    name = "apps.authz"
    label = "authz"

    def ready(self):
        post_migrate.connect(sync_builtin_roles, sender=self)
