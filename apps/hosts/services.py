from django.db import transaction
from django.utils import timezone

from apps.accounts.authz import authorize
from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.core import realtime

from .models import Host, HostState
from .virt.info import HostInfo

registry.register("host.create", "added host")
registry.register("host.state", "host changed state")


def host_create(*, actor, name, uri):
    """Register a host. The monitor connects to it on its next pass; the workers start
    consuming its queue now."""
    if actor is not None:
        authorize(actor, "host.manage")
    host = Host.objects.create(name=name, uri=uri)
    record("host.create", Outcome.SUCCEEDED, actor=actor, target=host, params={"uri": uri})

    def listen():
        from kvmweb.celery import app

        app.control.add_consumer(host.queue, reply=False)

    transaction.on_commit(listen)
    return host


def host_mark_up(*, host, info: HostInfo):
    changed = host.state != HostState.UP
    host.state = HostState.UP
    host.last_error = ""
    for field in ("hostname", "driver", "libvirt_version", "hypervisor_version", "cpu_model", "cpus", "memory_kib"):
        setattr(host, field, getattr(info, field))
    if changed:
        host.state_changed_at = timezone.now()
    host.save()
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
