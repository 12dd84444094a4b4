from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac


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
