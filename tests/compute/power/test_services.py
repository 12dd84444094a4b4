import pytest
from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.helpers import make_vm


def _audit(op):
    return list(AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("action", "outcome", "error"))


def test_power_queues_an_operation_with_a_requested_record(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        op = services.vm_power(actor=operator, vm=vm, action="start")
    assert op.status == "queued" and op.kind == "vm.start" and op.actor == operator
    assert op.host_id == demo_host.pk and op.target_name == vm.name
    assert _audit(op) == [("vm.start", "requested", "")]
    assert callbacks, "the task is sent only after the transaction commits"


def test_worker_half_starts_the_domain_and_records_success(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = services.vm_power(actor=operator, vm=vm, action="start")
    op = operation_run(op.pk)
    assert op.status == "succeeded", op.error
    assert VirtualMachine.objects.get(pk=vm.pk).state == "running"
    assert _audit(op) == [("vm.start", "requested", ""), ("vm.start", "succeeded", "")]


def test_starting_a_running_vm_fails_with_libvirts_words(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host, start=True)
    with django_capture_on_commit_callbacks(execute=False):
        op = services.vm_power(actor=operator, vm=vm, action="start")
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert "already running" in op.error
    assert _audit(op)[-1] == ("vm.start", "failed", op.error)


def test_viewer_is_refused_and_the_refusal_is_audited(demo_host, viewer):
    vm = make_vm(demo_host)
    with pytest.raises(PermissionDenied):
        services.vm_power(actor=viewer, vm=vm, action="destroy")
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.actor, denied.action, denied.target_name) == (viewer, "auth.denied", vm.name)
    assert denied.params == {"permission": "vm.power"}


def test_revoked_right_is_rechecked_when_the_task_runs(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = services.vm_power(actor=operator, vm=vm, action="start")
    operator.grants.all().delete()
    op = operation_run(op.pk)
    assert op.status == "failed" and "may not" in op.error
    assert VirtualMachine.objects.get(pk=vm.pk).state == "shutoff"


def test_redelivered_task_does_not_act_twice(demo_host, operator, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = services.vm_power(actor=operator, vm=vm, action="start")
    Operation.objects.filter(pk=op.pk).update(status="running")  # as if a worker died mid-task
    op = operation_run(op.pk)
    assert op.status == "lost" and "worker" in op.error
    assert VirtualMachine.objects.get(pk=vm.pk).state == "shutoff"


def test_inventory_keeps_a_vm_removed_outside(demo_host):
    vm = make_vm(demo_host)
    services.vm_inventory_apply(host=demo_host, uuid=str(vm.uuid), info=None)
    vm.refresh_from_db()
    assert vm.present is False
    assert VirtualMachine.objects.filter(pk=vm.pk).exists()


def test_a_change_kvmweb_made_is_not_recorded_as_an_outside_change(
    demo_host, operator, test_driver, django_capture_on_commit_callbacks
):
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = services.vm_power(actor=operator, vm=vm, action="start")
    VirtualMachine.objects.filter(pk=vm.pk).update(state="shutoff")  # as if the monitor saw it first
    operation_run(op.pk)
    from apps.compute.virt import domains

    services.vm_inventory_apply(
        host=demo_host, uuid=str(vm.uuid), info=domains.domain_info(test_driver, str(vm.uuid)), detected=True
    )
    assert not AuditEvent.objects.filter(outcome="detected", target_name=vm.name).exists()
