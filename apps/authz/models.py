from django.conf import settings
from django.db import models
from django.db.models import Q

from .permissions import ALL


class Role(models.Model):
    """A named set of permission codes (see permissions.PERMISSIONS); "*" means all."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    permissions = models.JSONField(default=list)
    builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["-builtin", "name"]
        db_table = "accounts_role"  # moved from accounts; the table keeps its name

    def __str__(self):
        return self.name

    def holds(self, permission):
        return ALL in self.permissions or permission in self.permissions


class Grant(models.Model):
    """A role given to a user or a team on a scope: everything, or one object and what it holds
    (a host covers its VMs). The scope is a type and id rather than a foreign key so accounts stays
    below the domain apps; objects describe their own scope chain with authz_scopes()."""

    GLOBAL = "global"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    scope_type = models.CharField(max_length=32, default=GLOBAL)
    scope_id = models.BigIntegerField(null=True, blank=True)
    scope_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_grant"
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="grant_one_principal",
            ),
            models.UniqueConstraint(
                fields=["user", "team", "role", "scope_type", "scope_id"],
                name="grant_unique",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["scope_type", "scope_id"])]

    def __str__(self):
        return f"{self.principal} {self.role} on {self.scope_label}"

    @property
    def principal(self):
        return self.user or self.team

    @property
    def scope_label(self):
        if self.scope_type == self.GLOBAL:
            return "everything"
        return f"{self.scope_type} {self.scope_name or self.scope_id}"
