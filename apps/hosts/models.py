from django.db import models

from apps.core.queues import host_queue


class HostState(models.TextChoices):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


class Host(models.Model):
    """A libvirt endpoint. Its state and facts are kept current by the monitor."""

    name = models.CharField(max_length=100, unique=True)
    uri = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=HostState.choices, default=HostState.UNKNOWN)
    last_error = models.TextField(blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    driver = models.CharField(max_length=32, blank=True)
    libvirt_version = models.CharField(max_length=32, blank=True)
    hypervisor_version = models.CharField(max_length=32, blank=True)
    cpu_model = models.CharField(max_length=100, blank=True)
    cpus = models.PositiveIntegerField(null=True, blank=True)
    memory_kib = models.BigIntegerField(null=True, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Read by the monitor when it connects, so the host page renders from the database — also
    # while the host is down, with what it last reported.
    capabilities_xml = models.TextField(blank=True)
    domain_capabilities_xml = models.TextField(blank=True)
    node_devices = models.IntegerField(null=True, blank=True)
    # Host bridges an administrator opened to VM users: a NIC on one of these needs only vm.edit
    # (every other bridge, macvtap or Open vSwitch NIC needs network.manage on the host).
    vm_bridges = models.JSONField(default=list, blank=True)
    facts_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def queue(self):
        """The Celery queue for work on this host."""
        return host_queue(self.pk)

    @property
    def is_local(self):
        from .validation import is_local

        return is_local(self.uri)

    @property
    def is_up(self):
        return self.state == HostState.UP

    def authz_scopes(self):
        return [("host", self.pk)]

    def audit_target(self):
        return {
            "target_type": "host",
            "target_id": self.pk,
            "target_name": self.name,
            "host_id": self.pk,
            "host_name": self.name,
        }


class NewOnHost:
    """The audit and operation target of an object a host does not hold yet (a pool, network or
    secret being defined): its kind and name, on that host."""

    def __init__(self, target_type, host, name):
        self.target_type, self.host, self.name = target_type, host, name

    def audit_target(self):
        return {
            "target_type": self.target_type,
            "target_id": "",
            "target_name": self.name,
            "host_id": self.host.pk,
            "host_name": self.host.name,
        }
