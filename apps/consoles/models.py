from django.conf import settings
from django.db import models


class ConsoleKind(models.TextChoices):
    VNC = "vnc", "graphical"
    SERIAL = "serial", "serial"


class ConsoleSession(models.Model):
    """One browser's open console on one VM: who is connected now (the VM page lists the open
    ones), the per-user limit, and where an administrator's "close" is sent (`channel_name`,
    the consumer's channel in whichever web process holds it).

    A web process that dies leaves its rows open; `seen_at` is renewed while a session lives, so a
    row not seen for a while is no longer counted (see services.STALE_AFTER)."""

    vm = models.ForeignKey("compute.VirtualMachine", on_delete=models.CASCADE, related_name="console_sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_sessions")
    kind = models.CharField(max_length=8, choices=ConsoleKind.choices)
    view_only = models.BooleanField(default=False)
    client = models.CharField(max_length=64, blank=True)  # the browser's address
    channel_name = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["vm", "closed_at"]), models.Index(fields=["user", "closed_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} console of {self.vm_id} by {self.user_id}"
