"""Bulk power actions from the VM list: each VM is authorized and reported on its own."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from apps.authz.rights import may
from apps.compute.models import VirtualMachine
from apps.operations.labels import label

from .power import POWER_ACTIONS, vm_power

# The states each action makes sense in; others are refused with a reason instead of queueing
# an operation libvirt would only refuse ("domain is already running").
APPLIES_TO = {
    "start": {"shutoff", "crashed", "nostate"},
    "shutdown": {"running", "blocked"},
    "reboot": {"running", "blocked"},
    "suspend": {"running", "blocked"},
    "resume": {"paused", "pmsuspended"},
    "destroy": {"running", "blocked", "paused", "shutdown", "pmsuspended", "crashed"},
}


@dataclass
class BulkResult:
    """What a bulk action did in the request: the operations it queued (their outcome comes
    later, from the worker) and the VMs it refused, with why."""

    action: str
    operations: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (name, reason)

    @property
    def queued(self):
        return [op.target_name for op in self.operations]

    @property
    def summary(self):
        """Like "Start queued for 3 VMs, 1 refused": queued, not done; each line then says how it ended."""
        n = len(self.operations)
        parts = [f"{label('vm.' + self.action)} queued for {n} VM{'s' if n != 1 else ''}" if n else ""]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return ", ".join(p for p in parts if p) or "nothing to do"


def vm_bulk_power(*, actor, vm_ids, action):
    """Queue `action` on every VM it applies to; one Operation (and audit pair) per VM.

    A VM the user may not see is refused as "no such VM", without its name; one they see but may
    not power is refused with the reason (and the denial is audited by authorize)."""
    if action not in POWER_ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    result = BulkResult(action=action)
    vms = {vm.pk: vm for vm in VirtualMachine.objects.select_related("host").filter(pk__in=vm_ids)}

    for pk in dict.fromkeys(vm_ids):
        vm = vms.get(pk)
        if vm is None or not may(actor, "vm.view", vm):
            result.refused.append((f"#{pk}", "no such VM"))
        elif not vm.present:
            result.refused.append((vm.name, "removed outside kvmweb"))
        elif vm.state not in APPLIES_TO[action]:
            result.refused.append((vm.name, f"it is {vm.get_state_display()}"))
        else:
            try:
                op = vm_power(actor=actor, vm=vm, action=action)
            except PermissionDenied as exc:
                result.refused.append((vm.name, str(exc)))
            else:
                result.operations.append(op)
    return result
