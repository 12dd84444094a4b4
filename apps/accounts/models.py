from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from .permissions import ALL


class User(AbstractUser):
    """Django's user plus a session epoch: bumping it signs the user out of every session."""

    session_epoch = models.PositiveIntegerField(default=0)

    def _get_session_auth_hash(self, secret=None):
        # Django checks this hash on every request; mixing the epoch in makes "log out
        # everywhere" a single UPDATE instead of a scan of every stored session.
        return salted_hmac(
            "kvmweb.accounts.User.session", f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()


class Team(models.Model):
    """A group of users: grants given to a team reach its members, and VMs belong to a team,
    whose quotas (blank: unlimited) the create, clone and edit services check."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    max_vms = models.PositiveIntegerField(null=True, blank=True, verbose_name="VMs")
    max_vcpus = models.PositiveIntegerField(null=True, blank=True, verbose_name="vCPUs")
    max_memory_mib = models.PositiveBigIntegerField(null=True, blank=True, verbose_name="memory (MiB)")
    max_disk_gib = models.PositiveBigIntegerField(null=True, blank=True, verbose_name="disk (GiB)")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.Model):
    """A named set of permission codes (see permissions.PERMISSIONS); "*" means all."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    permissions = models.JSONField(default=list)
    builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["-builtin", "name"]

    def __str__(self):
        return self.name

    def holds(self, permission):
        return ALL in self.permissions or permission in self.permissions


class Grant(models.Model):
    """A role given to a user or a team on a scope: everything, or one object and what it holds
    (a host covers its VMs). The scope is a type and id rather than a foreign key so accounts stays
    below the domain apps; objects describe their own scope chain with authz_scopes()."""

    GLOBAL = "global"

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    scope_type = models.CharField(max_length=32, default=GLOBAL)
    scope_id = models.BigIntegerField(null=True, blank=True)
    scope_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
