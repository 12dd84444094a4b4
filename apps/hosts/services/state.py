"""The monitor's updates of a host: up with the facts it read, down with libvirt's reason."""

from django.utils import timezone

from apps.audit.models import Outcome
from apps.audit.services import record
from apps.core import realtime
from apps.hosts.models import HostState
from apps.hosts.virt.info import HostInfo

# What the monitor reads of a host on connect (HostInfo), mirrored on the row.
INFO_FIELDS = ("hostname", "driver", "libvirt_version", "hypervisor_version", "cpu_model", "cpus", "memory_kib")


def host_mark_up(*, host, info: HostInfo, facts=None):
    """The monitor connected: state up, the facts it read (capabilities only on connect)."""
    changed = host.state != HostState.UP
    host.state = HostState.UP
    host.last_error = ""
    fields = ["state", "last_error", *INFO_FIELDS]
    for field in INFO_FIELDS:
        setattr(host, field, getattr(info, field))
    if facts is not None:
        host.capabilities_xml = facts.capabilities_xml
        host.domain_capabilities_xml = facts.domain_capabilities_xml
        host.node_devices = facts.node_devices
        host.facts_at = timezone.now()
        fields += ["capabilities_xml", "domain_capabilities_xml", "node_devices", "facts_at"]
    if changed:
        host.state_changed_at = timezone.now()
        fields.append("state_changed_at")
    # Only the monitor's fields: its Host object may predate a rename made in the meantime.
    host.save(update_fields=fields)
    if changed:
        record("host.state", Outcome.DETECTED, target=host, params={"state": "up"})
    realtime.publish_on_commit(realtime.host_group(host.pk), "host", id=host.pk)


def host_mark_down(*, host, reason):
    changed = host.state != HostState.DOWN
    if not changed and host.last_error == reason:
        return
    host.state = HostState.DOWN
    host.last_error = reason
    if changed:
        host.state_changed_at = timezone.now()
    host.save(update_fields=["state", "last_error", "state_changed_at"])
    if changed:
        record("host.state", Outcome.DETECTED, target=host, params={"state": "down"}, error=reason)
    realtime.publish_on_commit(realtime.host_group(host.pk), "host", id=host.pk)
