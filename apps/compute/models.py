from django.db import models

from apps.accounts.models import Team
from apps.hosts.models import Host


class VMState(models.TextChoices):
    # Labels spelled out: Django would capitalise the bare ones ("Running" beside "shut off").
    RUNNING = "running", "running"
    BLOCKED = "blocked", "blocked"
    PAUSED = "paused", "paused"
    SHUTDOWN = "shutdown", "shutting down"
    SHUTOFF = "shutoff", "shut off"
    CRASHED = "crashed", "crashed"
    PMSUSPENDED = "pmsuspended", "suspended"
    NOSTATE = "nostate", "no state"


class VirtualMachine(models.Model):
    """The inventory's mirror of one libvirt domain, kept by the monitor.

    Keyed by host and UUID; when the domain disappears outside the dashboard the row stays with
    `present=False`, so its operations and audit history still point somewhere.
    """

    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="vms")
    uuid = models.UUIDField()
    name = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=VMState.choices, default=VMState.NOSTATE)
    vcpus = models.PositiveIntegerField(default=0)
    # The definition's maximum (<vcpu>): vCPUs the guest can get by hot-plug, which quotas count.
    max_vcpus = models.PositiveIntegerField(default=0)
    memory_kib = models.BigIntegerField(default=0)
    max_memory_kib = models.BigIntegerField(default=0)
    persistent = models.BooleanField(default=True)
    # Why the VM is in its state, as libvirt says it ("booted", "destroyed", "crashed" …), and since
    # when (the monitor sets it when it sees the state change): the overview's uptime.
    state_reason = models.CharField(max_length=32, blank=True)
    state_since = models.DateTimeField(null=True, blank=True)
    autostart = models.BooleanField(default=False)
    # From the domain XML: <title>, <description>, and the libosinfo id in <metadata> as virt-install
    # writes it (http://libosinfo.org/xmlns/libvirt/domain/1.0).
    title = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    os_variant = models.CharField(max_length=255, blank=True)
    # The team a VM belongs to: set when the dashboard creates it; VMs found on a host have none
    # until an administrator assigns one. Team quotas count these.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="vms")
    disk_bytes = models.BigIntegerField(default=0)
    present = models.BooleanField(default=True, db_index=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "host_id"]
        constraints = [models.UniqueConstraint(fields=["host", "uuid"], name="vm_host_uuid_unique")]

    def __str__(self):
        return self.name

    def authz_scopes(self):
        return [("vm", self.pk), ("host", self.host_id)]

    def audit_target(self):
        return {
            "target_type": "vm",
            "target_id": self.pk,
            "target_name": self.name,
            "host_id": self.host_id,
            "host_name": self.host.name,
        }

    @property
    def memory_mib(self):
        return self.memory_kib // 1024
