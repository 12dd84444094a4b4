from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


class Grant(models.Model):
    """A role given to a user on a scope: everything, or one object (host, VM, …).

    The scope is named by type and id rather than a foreign key so that accounts stays below
    the domain apps in the dependency order; objects describe their own scope chain.
    """

    GLOBAL = "global"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    scope_type = models.CharField(max_length=32, default=GLOBAL)
    scope_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_type", "scope_id"], name="grant_unique"),
        ]
        indexes = [models.Index(fields=["scope_type", "scope_id"])]

    def __str__(self):
        scope = self.scope_type if self.scope_id is None else f"{self.scope_type}:{self.scope_id}"
        return f"{self.user} {self.role} on {scope}"
