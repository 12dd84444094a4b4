"""Hosts: add, edit, remove (each authorized with host.manage and audited as requested + outcome),
the connection test behind the form, and the monitor's state and facts updates."""

import json
import uuid
from functools import lru_cache

import redis
from celery import current_app
from django.conf import settings
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import diff, record
from apps.authz.rights import authorize
from apps.core import realtime
from apps.operations.models import Operation, Status

from . import uris
from .models import Host, HostState
from .virt.info import HostInfo

registry.register("host.create", "added host")
registry.register("host.update", "changed host")
registry.register("host.remove", "removed host")
registry.register("host.state", "host changed state")
registry.register("host.vm_bridges", "changed the bridges open to VM users on host")

# How long the form waits for a worker to open the connection. libvirt gives up sooner on a
# refused port or a rejected key; an address that never answers takes the TCP timeout, and the
# form says the test did not finish rather than keeping the browser waiting for minutes.
TEST_TIMEOUT = 15
TEST_REPLY_PREFIX = "kvmweb:host-test:"
CONNECTION_TEST_TASK = "hosts.connection_test"


class HostError(ValueError):
    """The change cannot be made as asked; the message is for the person who asked."""


class _Named:
    """The audit target of a host that does not exist (yet, or any more)."""

    def __init__(self, name, pk=""):
        self.name, self.pk = name, pk

    def audit_target(self):
        return {"target_type": "host", "target_id": self.pk, "target_name": self.name, "host_id": None}


@lru_cache
def _redis(url):
    return redis.Redis.from_url(url)


def connection_test(uri, *, timeout=TEST_TIMEOUT):
    """Open `uri` once on a worker and return the facts it read (a dict), or raise HostError with
    libvirt's own message.

    Why a worker, and why the form waits for it: the web process never calls libvirt, and the
    worker is where the host's connections will live (its key, its known_hosts). Someone adding a
    hypervisor in Proxmox or oVirt expects to hear at once that the key was refused or the name
    does not resolve, on the form they can still correct, rather than find a host "down" later;
    so the answer comes back through a one-time Redis list the request blocks on for a few seconds.
    The task expires with the wait, so a busy worker does not test a host nobody waits for.
    """
    key = TEST_REPLY_PREFIX + uuid.uuid4().hex
    # By name: services never import tasks (the worker registers hosts.tasks).
    current_app.send_task(CONNECTION_TEST_TASK, args=[uri, key], queue="default", expires=timeout)
    answer = _redis(settings.REDIS_URL).blpop([key], timeout=timeout)
    if answer is None:
        raise HostError(
            f"The connection test did not finish within {timeout} s: the host does not answer, or no worker is running."
        )
    result = json.loads(answer[1])
    if not result["ok"]:
        raise HostError(f"Could not connect: {result['error']}")
    return result["info"]


def connection_test_reply(key, result):
    """Called by the worker with {"ok": …, "info" | "error": …}."""
    r = _redis(settings.REDIS_URL)
    r.rpush(key, json.dumps(result))
    r.expire(key, TEST_TIMEOUT * 2)


def _check(name, uri, exclude=None):
    name = (name or "").strip()
    if not name:
        raise HostError("Enter a name.")
    try:
        uri = uris.check(uri, allow_test=settings.KVMWEB_ALLOW_TEST_HOSTS)
    except uris.UriError as exc:
        raise HostError(str(exc)) from None
    others = Host.objects.exclude(pk=exclude.pk) if exclude is not None else Host.objects.all()
    if others.filter(name=name).exists():
        raise HostError(f"A host named {name!r} already exists.")
    same = next((h for h in others.only("name", "uri") if uris.same(h.uri, uri)), None)
    if same is not None:
        raise HostError(f"Host {same.name!r} already connects to {uri}.")
    return name, uri


def _tested(action, actor, target, uri, params):
    """The connection test with its failure audited; returns the facts read."""
    try:
        return connection_test(uri)
    except HostError as exc:
        record(action, Outcome.FAILED, actor=actor, target=target, params=params, error=str(exc))
        raise


def _listen(queue, on=True):
    def send():
        if on:
            current_app.control.add_consumer(queue, reply=False)
        else:
            current_app.control.cancel_consumer(queue, reply=False)

    transaction.on_commit(send)


def host_create(*, actor, name, uri, test_connection=False):
    """Register a host. With `test_connection` (the form) a worker opens it first and nothing is
    saved if it cannot. The monitor connects on its next pass; the workers consume its queue now."""
    if actor is not None:
        authorize(actor, "host.manage")
    name, uri = _check(name, uri)
    params = {"uri": uri}
    record("host.create", Outcome.REQUESTED, actor=actor, target=_Named(name), params=params)
    if test_connection:
        _tested("host.create", actor, _Named(name), uri, params)
    with transaction.atomic():
        host = Host.objects.create(name=name, uri=uri)
        record("host.create", Outcome.SUCCEEDED, actor=actor, target=host, params=params)
        _listen(host.queue)
    return host


def host_update(*, actor, host, name, uri, test_connection=False):
    """Rename a host and/or point it at another URI (tested first when asked, like a new host).
    A new URI resets the state to unknown: the monitor reconnects on its next pass."""
    if actor is not None:
        authorize(actor, "host.manage", host)
    name, uri = _check(name, uri, exclude=host)
    changes = diff({"name": host.name, "uri": host.uri}, {"name": name, "uri": uri})
    if not changes:
        return host
    if actor is not None and "uri" in changes and not uris.same(host.uri, uri):
        # A new URI points this entry, and every grant on it, at whatever hypervisor the worker's
        # credentials reach: as much as adding a host, so it needs the right everywhere.
        authorize(actor, "host.manage")
    record("host.update", Outcome.REQUESTED, actor=actor, target=host, changes=changes)
    if test_connection and "uri" in changes:
        _tested("host.update", actor, host, uri, {})
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host.pk)
        host.name = name
        if "uri" in changes:
            host.uri = uri
            host.state, host.last_error, host.state_changed_at = HostState.UNKNOWN, "", timezone.now()
        host.save()
        record("host.update", Outcome.SUCCEEDED, actor=actor, target=host, changes=changes)
        realtime.publish_on_commit(realtime.host_group(host.pk), "host", id=host.pk)
    return host


def _inventory(host):
    """The rows that mirror what is on this host, found through the relations other apps declared
    with on_delete=PROTECT (hosts names no app that sits above it)."""
    for rel in Host._meta.related_objects:
        if rel.on_delete is models.PROTECT:
            yield rel.related_model, rel.related_model._default_manager.filter(**{rel.field.name: host})


def host_remove(*, actor, host, forget_vms=False):
    """Remove a host from kvmweb: it stops being watched and its inventory is dropped. What
    removal means, since VMs are PROTECTed from a silent cascade:

    - The hypervisor is never touched: its domains, networks, pools and volumes stay as they
      are, and adding the host again finds them again.
    - Refused while an operation on the host is queued or running: its worker would act for a
      host kvmweb no longer lists.
    - Refused while kvmweb lists VMs on it (still defined there) unless `forget_vms`: the person
      confirms that they forget those VMs — with their team assignment and the grants on them.
      A host that died with its VMs can so still be removed, knowingly.
    - Dropped: the inventory rows of the host (VMs, pools with their volumes, secrets — mirrors,
      rebuilt on re-adding) and the grants scoped to the host or to those rows.
    - Kept: the audit log and the operations, which name the host and its VMs by id and name,
      so the history reads the same afterwards. The removal's own records list the VMs forgotten.
    """
    if actor is not None:
        authorize(actor, "host.manage", host)
    target = _Named(host.name, host.pk)
    vms = list(host.vms.filter(present=True).order_by("name").values_list("name", flat=True))
    params = {"uri": host.uri, "vms": vms}
    record("host.remove", Outcome.REQUESTED, actor=actor, target=target, params=params)

    def refuse(message):
        record("host.remove", Outcome.FAILED, actor=actor, target=target, params=params, error=message)
        raise HostError(message)

    busy = Operation.objects.filter(host_id=host.pk, status__in=[Status.QUEUED, Status.RUNNING]).count()
    if busy:
        refuse(f"{busy} operation(s) on this host are still queued or running; wait for them to finish.")
    if vms and not forget_vms:
        refuse(
            f"kvmweb lists {len(vms)} VM(s) on this host ({', '.join(vms[:5])}{'…' if len(vms) > 5 else ''}). "
            "Delete or move them first, or confirm that kvmweb should forget them."
        )
    try:
        with transaction.atomic():
            _drop_inventory_and_grants(host)
            host.delete()
            record("host.remove", Outcome.SUCCEEDED, actor=actor, target=target, params=params)
            _listen(f"host.{target.pk}", on=False)
    except ProtectedError as exc:
        names = sorted({obj._meta.verbose_name for obj in exc.protected_objects})
        refuse(f"Other records still point at this host's inventory ({', '.join(names)}).")


def _drop_inventory_and_grants(host):
    from apps.authz.models import Grant

    scopes = {("host", host.pk)}
    for model, rows in _inventory(host):
        if hasattr(model, "authz_scopes"):
            scopes.update(row.authz_scopes()[0] for row in rows)
        rows.delete()
    for scope_type, scope_id in scopes:
        Grant.objects.filter(scope_type=scope_type, scope_id=scope_id).delete()


# -- the monitor's updates -----------------------------------------------------------------------


INFO_FIELDS = ("hostname", "driver", "libvirt_version", "hypervisor_version", "cpu_model", "cpus", "memory_kib")


def host_mark_up(*, host, info: HostInfo, facts=None, networks=None):
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
    if networks is not None:
        host.networks = [n.as_dict() for n in networks]
        fields.append("networks")
    if changed:
        host.state_changed_at = timezone.now()
        fields.append("state_changed_at")
    # Only the monitor's fields: its Host object may predate a rename made in the meantime.
    host.save(update_fields=fields)
    if changed:
        record("host.state", Outcome.DETECTED, target=host, params={"state": "up"})
    realtime.publish_on_commit(realtime.host_group(host.pk), "host", id=host.pk)


def host_set_networks(*, host, networks):
    rows = [n.as_dict() for n in networks]
    if rows != host.networks:
        host.networks = rows
        Host.objects.filter(pk=host.pk).update(networks=rows)


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


def host_set_vm_bridges(*, actor, host, bridges):
    """Open host bridges to VM users: a NIC on one of them then needs only vm.edit on the VM.
    An administrator's choice per host (host.manage), e.g. the guests' bridge, never the
    management one."""
    if actor is not None:
        authorize(actor, "host.manage", host)
    names = sorted({b.strip() for b in bridges if b and b.strip()})
    for name in names:
        if len(name) > 15 or not all(c.isalnum() or c in "-_." for c in name):
            raise HostError(f"{name!r} is not a bridge name.")
    changes = diff({"vm_bridges": host.vm_bridges}, {"vm_bridges": names})
    if not changes:
        return host
    with transaction.atomic():
        Host.objects.filter(pk=host.pk).update(vm_bridges=names)
        host.vm_bridges = names
        record("host.vm_bridges", Outcome.SUCCEEDED, actor=actor, target=host, changes=changes)
    return host
