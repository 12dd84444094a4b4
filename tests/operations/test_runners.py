"""The runner registry and the guard every operation passes on the worker, for every kind."""

import uuid

import pytest

from apps.accounts.services import grant_add, user_create
from apps.audit import registry as audit_registry
from apps.audit.models import AuditEvent
from apps.authz.models import Grant
from apps.authz.permissions import PERMISSIONS
from apps.compute import services as compute
from apps.compute.models import VirtualMachine
from apps.hosts.models import Host
from apps.network.models import VirtualNetwork
from apps.operations import runners
from apps.operations.models import Operation
from apps.operations.services import operation_queue, operation_run
from apps.storage.models import Secret, StoragePool
from tests.helpers import make_vm

# Every kind of work a service can queue. A new kind needs a runner (operation_queue refuses a kind
# without one, in the request) and a line here; a runner with no service behind it is dead code.
KINDS = {
    *(f"vm.{a}" for a in ("start", "shutdown", "reboot", "destroy", "suspend", "resume")),
    *(f"vm.disk_{a}" for a in ("attach", "detach", "new", "resize")),
    *(f"vm.cdrom_{a}" for a in ("insert", "eject", "add")),
    *(f"vm.nic_{a}" for a in ("add", "remove", "link")),
    *(f"vm.snapshot_{a}" for a in ("create", "revert", "delete")),
    "vm.settings",
    "vm.display",
    "vm.spice_ticket",
    "vm.xml_edit",
    "vm.create",
    "vm.define",
    "vm.clone",
    "vm.delete",
    "pool.create",
    "pool.iso_library",
    *(
        f"pool.{a}"
        for a in ("start", "stop", "build", "refresh", "delete", "undefine", "autostart_on", "autostart_off")
    ),
    *(f"volume.{a}" for a in ("create", "resize", "clone", "wipe", "delete", "upload", "download")),
    "secret.define",
    "secret.set_value",
    "secret.delete",
    *(f"network.{a}" for a in ("create", "edit", "start", "stop", "autostart_on", "autostart_off", "update", "delete")),
}


def test_every_kind_has_one_runner_with_a_known_permission_and_an_audit_action():
    assert set(runners.kinds()) == KINDS
    for kind in KINDS:
        runner = runners.get(kind)
        assert runner.permission in PERMISSIONS, kind
        assert runner.target is not None, kind
        assert audit_registry.get(kind).label, kind


def test_a_kind_without_a_runner_is_refused_in_the_request(demo_host, operator):
    vm = make_vm(demo_host)
    with pytest.raises(runners.UnknownKind, match="vm.teleport"):
        operation_queue(actor=operator, kind="vm.teleport", target=vm, params={})
    assert not Operation.objects.exists()


def test_a_second_runner_for_a_kind_fails_at_import():
    with pytest.raises(RuntimeError, match="two runners"):
        runners.runner("vm.start", permission="vm.power", target=VirtualMachine)(lambda op, vm: "")


def test_a_runner_naming_an_unknown_permission_fails_at_import():
    with pytest.raises(KeyError):
        runners.runner("vm.nothing", permission="vm.teleport", target=VirtualMachine)


# -- the guard, for every kind -------------------------------------------------------------------


@pytest.fixture
def targets(demo_host):
    """One object of each kind of target, all on the demo host."""
    vm = make_vm(demo_host)
    pool = StoragePool.objects.create(host=demo_host, uuid=uuid.uuid4(), name="guarded", pool_type="dir")
    secret = Secret.objects.create(host=demo_host, uuid=uuid.uuid4(), usage_type="ceph", usage_id="guarded")
    network = VirtualNetwork.objects.create(host=demo_host, uuid=uuid.uuid4(), name="guarded")
    return {"host": demo_host, "vm": vm, "pool": pool, "secret": secret, "network": network}


def _queued(kind, actor, targets):
    """A queued operation of `kind` on the target its runner loads, as a service would leave it."""
    runner = runners.get(kind)
    host = targets["host"]
    if runner.target is VirtualMachine:
        target_type, target = "vm", targets["vm"]
    elif runner.target is StoragePool:
        target_type, target = "pool", targets["pool"]
    elif runner.target is Secret:
        target_type, target = "secret", targets["secret"]
    elif runner.target is VirtualNetwork:
        target_type, target = "network", targets["network"]
    elif kind.startswith("volume."):
        target_type, target = "volume", None
    else:
        target_type, target = "host", host
    probe = Operation(kind=kind, host_id=host.pk, target_id=str(target.pk) if target else "", params={})
    probe.params = {"pool_id": targets["pool"].pk}
    loaded = runner.load(probe)
    assert loaded is not None, f"{kind}: the runner finds no target for the fixture"
    return Operation.objects.create(
        kind=kind,
        actor=actor,
        actor_name=actor.get_username(),
        target_type=target_type,
        target_id=probe.target_id,
        target_name=str(loaded),
        host_id=host.pk,
        host_name=host.name,
        params=probe.params,
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_deleted_requester_fails_the_operation_with_a_clear_message(kind, targets):
    user, _ = user_create(actor=None, username=f"gone-{kind}", password="x-very-long-password")
    grant_add(actor=None, user=user, role="Administrator")
    op = _queued(kind, user, targets)
    user.delete()
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert op.error == f"The user who asked for this (gone-{kind}) no longer exists."
    outcome = AuditEvent.objects.filter(operation_id=op.pk).get()
    assert (outcome.action, outcome.outcome, outcome.error) == (kind, "failed", op.error)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_right_revoked_while_queued_is_refused_and_audited(kind, targets):
    user, _ = user_create(actor=None, username=f"revoked-{kind}", password="x-very-long-password")
    grant = grant_add(actor=None, user=user, role="Administrator", scope=targets["host"])
    op = _queued(kind, user, targets)
    Grant.objects.filter(pk=grant.pk).delete()
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert op.error.startswith("You may not ")
    denied = AuditEvent.objects.get(actor=user, outcome="denied")
    assert denied.params == {"permission": runners.get(kind).permission}
    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed").exists()


def test_a_deactivated_requester_is_refused(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = compute.vm_power(actor=operator, vm=vm, action="start")
    type(operator).objects.filter(pk=operator.pk).update(is_active=False)
    op = operation_run(op.pk)
    assert op.status == "failed" and "deactivated" in op.error
    assert VirtualMachine.objects.get(pk=vm.pk).state == "shutoff", "nothing was done"


def test_a_target_gone_while_queued_fails_cleanly(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = compute.vm_power(actor=operator, vm=vm, action="start")
    VirtualMachine.objects.filter(pk=vm.pk).delete()
    op = operation_run(op.pk)
    assert (op.status, op.error) == ("failed", f"{vm.name} no longer exists.")


def test_the_run_task_goes_to_the_hosts_queue_by_id_only(
    demo_host, operator, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.operations import services

    sent = []
    monkeypatch.setattr(services.current_app, "send_task", lambda name, **kw: sent.append((name, kw)) or _Sent())
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=True):
        op = compute.vm_power(actor=operator, vm=vm, action="start")
    assert sent == [("operations.run", {"args": [op.pk], "queue": f"host.{demo_host.pk}"})]
    assert Host.objects.get(pk=demo_host.pk).queue == f"host.{demo_host.pk}"


class _Sent:
    id = "recorded"
