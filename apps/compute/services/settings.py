"""Settings: vCPUs and memory (live where the hypervisor allows, else next boot), autostart, boot
order and menu, title and description (right: vm.edit).

The service reads the VM's settings from libvirt once (the request already needs them to know
what changed and against which limits), checks only what changed against what the hypervisor
can do at all and the team's quota when something grows (more than the host has is an overcommit
the tab warns about, not a refusal), and queues one operation with only the changes. The worker applies them and its
message says, for each, whether it took effect now or from the next boot.
"""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.quotas import quota_check
from apps.compute.virt import settings as virt
from apps.hosts.virt import connection
from apps.operations.services import operation_queue

registry.register("vm.settings", "changed the settings of VM")

MIN_MEMORY_MIB = 16  # below this no firmware boots; refusing here beats a failed start later
TITLE_MAX = 255
DESCRIPTION_MAX = 4000


class SettingsError(ValueError):
    """Input refused before anything was queued: `field` names the form field, or None."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _int(value, field, label):
    if isinstance(value, bool):
        raise SettingsError(f"{label} must be a whole number.", field)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SettingsError(f"{label} must be a whole number, not {value!r}.", field) from None
    if number < 1:
        raise SettingsError(f"{label} must be at least 1.", field)
    return number


def read(vm):
    """What the form shows and the service compares against: one adapter call."""
    with connection.connected(vm.host.uri) as conn:
        return virt.read(conn, str(vm.uuid))


def _check_cpu_memory(vm, current, vcpus, max_vcpus, memory_mib, max_memory_mib):
    """Refuse only what the hypervisor cannot do, and only for what changed: a field left as it
    is was accepted before, and a value that shrinks is never refused for its size. More vCPUs or
    memory than the host has is an overcommit, which libvirt allows (as Proxmox and oVirt do):
    the tab warns with the host's figures instead of refusing."""
    before = current_values(current)
    limit = current.hypervisor_max_vcpus or None  # what the hypervisor can run at all
    for value, field in ((vcpus, "vcpus"), (max_vcpus, "max_vcpus")):
        if limit and value > max(limit, before[field]):
            raise SettingsError(f"At most {limit} vCPUs for a VM on host {vm.host.name} ({value} asked).", field)
    cpus_changed = (vcpus, max_vcpus) != (before["vcpus"], before["max_vcpus"])
    if cpus_changed and vcpus > max_vcpus:
        raise SettingsError(f"vCPUs ({vcpus}) cannot be more than the maximum ({max_vcpus}).", "vcpus")
    if memory_mib != before["memory_mib"] and memory_mib < MIN_MEMORY_MIB:
        raise SettingsError(f"Memory must be at least {MIN_MEMORY_MIB} MiB.", "memory_mib")
    memory_changed = (memory_mib, max_memory_mib) != (before["memory_mib"], before["max_memory_mib"])
    if memory_changed and memory_mib > max_memory_mib:
        raise SettingsError(
            f"Memory ({memory_mib} MiB) cannot be more than the maximum ({max_memory_mib} MiB).", "memory_mib"
        )
    # The quota counts vCPUs by the definition's maximum (what hot-plug can reach) and memory by
    # its maximum, as the inventory keeps them.
    grow_vcpus = max(0, max(vcpus, max_vcpus) - max(vm.vcpus, vm.max_vcpus))
    grow_memory = max(0, max_memory_mib - vm.max_memory_kib // 1024)
    if grow_vcpus or grow_memory:
        try:
            quota_check(vm.team, vcpus=grow_vcpus, memory_mib=grow_memory)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None


def current_values(current):
    """The settings as the form shows them, from what libvirt says (the live counts when the VM
    runs): what a change is compared against."""
    return {
        "vcpus": current.live_vcpus if current.running else current.vcpus,
        "max_vcpus": current.max_vcpus,
        "memory_mib": (current.live_memory_kib if current.running else current.memory_kib) // 1024,
        "max_memory_mib": current.max_memory_kib // 1024,
        "autostart": current.autostart,
        "boot": current.boot,
        "bootmenu": current.bootmenu,
        "title": current.title,
        "description": current.description,
    }


def vm_settings_change(  # noqa: PLR0913 - one form, one operation
    *,
    actor,
    vm,
    vcpus,
    max_vcpus,
    memory_mib,
    max_memory_mib,
    autostart,
    boot,
    bootmenu,
    title,
    description,
    current=None,
):
    """Queue the changes the form asks for; nothing is queued when nothing changes."""
    authorize(actor, "vm.edit", vm)
    vcpus, max_vcpus = _int(vcpus, "vcpus", "vCPUs"), _int(max_vcpus, "max_vcpus", "Maximum vCPUs")
    memory_mib = _int(memory_mib, "memory_mib", "Memory")
    max_memory_mib = _int(max_memory_mib, "max_memory_mib", "Maximum memory")
    boot = [b for b in boot if b]
    unknown = [b for b in boot if b not in virt.BOOT_DEVICES]
    if unknown:
        raise SettingsError(f"Unknown boot device {unknown[0]!r}: use {', '.join(virt.BOOT_DEVICES)}.", "boot")
    if not boot:
        raise SettingsError("Choose at least one boot device.", "boot")
    if len(set(boot)) != len(boot):
        raise SettingsError("Each boot device can appear once.", "boot")
    title, description = (title or "").strip(), (description or "").strip()
    if "\n" in title or "\r" in title or len(title) > TITLE_MAX:
        raise SettingsError(f"A title is one line of at most {TITLE_MAX} characters.", "title")
    if len(description) > DESCRIPTION_MAX:
        raise SettingsError(f"A description has at most {DESCRIPTION_MAX} characters.", "description")
    current = current or read(vm)
    _check_cpu_memory(vm, current, vcpus, max_vcpus, memory_mib, max_memory_mib)

    before = current_values(current)
    after = {
        "vcpus": vcpus,
        "max_vcpus": max_vcpus,
        "memory_mib": memory_mib,
        "max_memory_mib": max_memory_mib,
        "autostart": bool(autostart),
        "boot": boot,
        "bootmenu": bool(bootmenu),
        "title": title,
        "description": description,
    }
    if current.running:  # the saved count may differ from the live one: keep them in line
        if vcpus != current.vcpus:
            before["vcpus_saved"], after["vcpus_saved"] = current.vcpus, vcpus
        if memory_mib != current.memory_kib // 1024:
            before["memory_saved_mib"], after["memory_saved_mib"] = current.memory_kib // 1024, memory_mib
    changes = {k: {"before": before.get(k), "after": v} for k, v in after.items() if before.get(k) != v}
    if not changes:
        raise SettingsError("Nothing changed.")
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind="vm.settings",
            target=vm,
            params={"changes": changes},
        )


