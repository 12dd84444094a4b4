from django.conf import settings
from django.db import models


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class Operation(models.Model):
    """A piece of long work asked for by someone: the record the operations panel shows.

    Like audit events it names its target and host by id and name, so it survives them.
    """

    kind = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    target_name = models.CharField(max_length=255)
    host_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    host_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def finished(self):
        return self.status in FINISHED

    def audit_target(self):
        return {
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_name": self.target_name,
            "host_id": self.host_id,
            "host_name": self.host_name,
        }

    def authz_scopes(self):
        scopes = [(self.target_type, int(self.target_id))] if self.target_id.isdigit() else []
        if self.host_id is not None:
            scopes.append(("host", self.host_id))
        return scopes

    def __str__(self):
        return f"{self.kind} {self.target_name} [{self.status}]"
