from django.db import models

from apps.hosts.models import Host


class PoolState(models.TextChoices):
    INACTIVE = "inactive", "inactive"
    BUILDING = "building", "building"
    RUNNING = "running", "active"
    DEGRADED = "degraded", "degraded"
    INACCESSIBLE = "inaccessible", "inaccessible"


class StoragePool(models.Model):
    """The inventory's mirror of one libvirt storage pool, kept by the monitor and refreshed after
    every volume operation (volumes have no libvirt events)."""

    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="pools")
    uuid = models.UUIDField()
    name = models.CharField(max_length=255)
    pool_type = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=PoolState.choices, default=PoolState.INACTIVE)
    autostart = models.BooleanField(default=False)
    persistent = models.BooleanField(default=True)
    capacity = models.BigIntegerField(default=0)
    allocation = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    target_path = models.CharField(max_length=1024, blank=True)
    is_iso_library = models.BooleanField(default=False)
    present = models.BooleanField(default=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "uuid"], name="pool_host_uuid_unique"),
            models.UniqueConstraint(
                fields=["host"], condition=models.Q(is_iso_library=True), name="one_iso_library_per_host"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.host.name})"

    @property
    def used_percent(self):
        return round(100 * self.allocation / self.capacity) if self.capacity else 0

    @property
    def active(self):
        return self.state == PoolState.RUNNING

    def authz_scopes(self):
        return [("pool", self.pk), ("host", self.host_id)]

    def audit_target(self):
        return {
            "target_type": "pool",
            "target_id": self.pk,
            "target_name": self.name,
            "host_id": self.host_id,
            "host_name": self.host.name,
        }


class StorageVolume(models.Model):
    """A volume as `virsh vol-info` and `qemu-img info` describe it."""

    pool = models.ForeignKey(StoragePool, on_delete=models.CASCADE, related_name="volumes")
    name = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    path = models.CharField(max_length=1024)
    format = models.CharField(max_length=32, blank=True)
    capacity = models.BigIntegerField(default=0)
    allocation = models.BigIntegerField(default=0)
    backing_path = models.CharField(max_length=1024, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["pool", "name"], name="volume_pool_name_unique")]

    def __str__(self):
        return self.name

    def authz_scopes(self):
        return [("pool", self.pool_id), ("host", self.pool.host_id)]

    def audit_target(self):
        return {
            "target_type": "volume",
            "target_id": self.pk,
            "target_name": f"{self.pool.name}/{self.name}",
            "host_id": self.pool.host_id,
            "host_name": self.pool.host.name,
        }


class SecretUsage(models.TextChoices):
    CEPH = "ceph", "Ceph"
    ISCSI = "iscsi", "iSCSI"
    VOLUME = "volume", "volume (LUKS)"
    TLS = "tls", "TLS"


class Secret(models.Model):
    """A libvirt secret's description. Its value is never stored, shown, logged or returned:
    only whether one has been set."""

    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="secrets")
    uuid = models.UUIDField()
    usage_type = models.CharField(max_length=16, choices=SecretUsage.choices)
    usage_id = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    has_value = models.BooleanField(default=False)
    present = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host__name", "usage_type", "usage_id"]
        constraints = [models.UniqueConstraint(fields=["host", "uuid"], name="secret_host_uuid_unique")]

    def __str__(self):
        return f"{self.usage_type} {self.usage_id}"

    def authz_scopes(self):
        return [("host", self.host_id)]

    def audit_target(self):
        return {
            "target_type": "secret",
            "target_id": self.pk,
            "target_name": str(self),
            "host_id": self.host_id,
            "host_name": self.host.name,
        }
