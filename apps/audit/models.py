from django.conf import settings
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    DETECTED = "detected"
    CANCELLED = "cancelled"


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    """Bulk writes would bypass both the append-only rule and the hash chain, so they are refused
    here; the one sanctioned removal (retention) goes through apps.audit.retention."""

    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted (use manage.py audit_prune)")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be changed")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError("audit events are written one by one with apps.audit.services.record()")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be changed")


class AuditEvent(models.Model):
    """One row per thing that happened. Rows are written once and never changed.

    Target, host, operation and actor are kept as ids plus names rather than real foreign keys:
    the record must outlive the VM, the host or the user it speaks of, and deleting a user must not
    rewrite (and so break the hash of) every record they left. `hash` chains each row to the one
    before it (see apps.audit.chain); `time` never goes backwards in id order, which lets time
    filters become id ranges.
    """

    time = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    host_id = models.BigIntegerField(null=True, blank=True)
    host_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    operation_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # Every list is "newest first, filtered by one column": (column, id) lets the database walk
        # one index backwards from the keyset cursor and stop after a page.
        indexes = [
            models.Index(fields=["time", "id"], name="audit_time_id"),
            models.Index(fields=["actor", "id"], name="audit_actor_id"),
            models.Index(fields=["actor_name", "id"], name="audit_actor_name_id"),
            models.Index(fields=["action", "id"], name="audit_action_id"),
            models.Index(fields=["outcome", "id"], name="audit_outcome_id"),
            models.Index(fields=["host_id", "id"], name="audit_host_id"),
            models.Index(fields=["host_name", "id"], name="audit_host_name_id"),
            models.Index(fields=["target_type", "target_id", "id"], name="audit_target_id"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        if not self.hash:
            raise AppendOnlyError("audit events are written with apps.audit.services.record()")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.outcome}"
