"""Lifecycle actions: start, shut down, reboot, force off, pause, resume."""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.operations.services import operation_queue

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
    if action not in POWER_ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    authorize(actor, "vm.power", vm)
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind=f"vm.{action}",
            target=vm,
            params={"action": action},
        )
