"""Lifecycle actions: start, shut down, reboot, force off, pause, resume."""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.virt import connection
from apps.operations.services import OperationError, operation_queue

from .inventory import vm_inventory_apply

POWER_ACTIONS = {
    "start": "started",
    "shutdown": "shut down",
    "reboot": "rebooted",
    "destroy": "forced off",
    "suspend": "paused",
    "resume": "resumed",
}
for _action, _label in POWER_ACTIONS.items():
    registry.register(f"vm.{_action}", f"{_label} VM")


def vm_power(*, actor, vm, action):
    """Queue a lifecycle action on a VM. Returns the Operation; the work runs on a worker."""
    from apps.compute.tasks.core import vm_power_task

    if action not in POWER_ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    authorize(actor, "vm.power", vm)
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind=f"vm.{action}",
            target=vm,
            params={"action": action},
            task=vm_power_task,
            queue=vm.host.queue,
        )


def vm_power_execute(op):
    """The worker's half: re-check the right (it may have been revoked since), then act."""
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    if op.actor is not None:
        authorize(op.actor, "vm.power", vm)
    elif op.actor_name:
        raise OperationError("The user who asked for this no longer exists.")
    action = op.params["action"]
    with connection.connected(vm.host.uri) as conn:
        domains.power(conn, str(vm.uuid), action)
        vm_inventory_apply(host=vm.host, uuid=str(vm.uuid), info=domains.domain_info(conn, str(vm.uuid)))
    return f"{vm.name} {POWER_ACTIONS[action]}"
