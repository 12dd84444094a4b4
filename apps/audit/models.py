from django.conf import settings
from django.db import models


class Outcome(models.TextChoices):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    DETECTED = "detected"


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    """One row per thing that happened. Rows are written once and never changed.

    Target, host and operation are kept as ids plus names rather than foreign keys: the record
    must outlive the VM, the host or the user it speaks of.
    """

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    host_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    host_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    operation_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.outcome}"
