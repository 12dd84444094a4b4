from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The worker running it went away (killed, crashed, cut off at its hard limit): nobody can
    # tell how far it got.
    LOST = "lost"


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.LOST)
# Ended without doing what was asked, by an error: what stays marked for who asked until seen,
# and what the task center's "failed" filter shows.
FAILURES = (Status.FAILED, Status.LOST)


class Operation(models.Model):
    """A piece of long work asked for by someone: the record the operations panel shows.

    Like audit events it names its target and host by id and name, so it survives them.
    """

    kind = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # op_actor_created leads with it
    )
    actor_name = models.CharField(max_length=150, blank=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    target_name = models.CharField(max_length=255)
    host_id = models.BigIntegerField(null=True, blank=True)
    host_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Whether the person who asked has seen that it failed: their failed operations not yet seen
    # stay marked (a count beside "Operations") until they open them.
    failure_seen = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The task center pages by (created_at, id), newest first, under any one filter: each
        # filter's column leads an index that then runs in that order, so a page is one short
        # index walk from its cursor at any depth (bench/task_center.py).
        indexes = [
            models.Index(fields=["created_at", "id"], name="op_created"),
            models.Index(fields=["actor", "created_at", "id"], name="op_actor_created"),
            models.Index(fields=["status", "created_at", "id"], name="op_status_created"),
            models.Index(fields=["host_id", "created_at", "id"], name="op_host_created"),
            models.Index(fields=["host_name", "created_at", "id"], name="op_host_name_created"),
            # Who sees one VM (a VM user) sees its operations: without it, their page walks the
            # whole table for the few rows that are theirs.
            models.Index(fields=["target_type", "target_id", "created_at", "id"], name="op_target_created"),
            models.Index(fields=["kind", "created_at", "id"], name="op_kind_created"),
            models.Index(
                fields=["actor"],
                condition=Q(status__in=["failed", "lost"], failure_seen=False),
                name="op_unseen_failures",
            ),
        ]

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


class StepLevel(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class OperationStep(models.Model):
    """One line of what the worker did for an operation (apps/operations/steps.py writes them),
    shown in order on the operation's page."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(default=timezone.now)
    text = models.CharField(max_length=500)
    level = models.CharField(max_length=8, choices=StepLevel.choices, default=StepLevel.INFO)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.operation_id} {self.at:%H:%M:%S} {self.text}"
