"""Hosts: add, edit, remove (each authorized with host.manage and audited as requested + outcome),
and the bridges an administrator opens to VM users."""

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
from apps.core.queues import host_queue
from apps.hosts import uris
from apps.hosts.models import Host, HostState
from apps.operations.models import Operation, Status

from .connection_test import connection_test
from .errors import HostError

registry.register("host.create", "added host")
registry.register("host.update", "changed host")
registry.register("host.remove", "removed host")
registry.register("host.state", "host changed state")
registry.register("host.vm_bridges", "changed the bridges open to VM users on host")


class _Named:
    """The audit target of a host that does not exist (yet, or any more)."""

    def __init__(self, name, pk=""):
        self.name, self.pk = name, pk

    def audit_target(self):
        return {"target_type": "host", "target_id": self.pk, "target_name": self.name, "host_id": None}


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
            _listen(host_queue(target.pk), on=False)
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
