"""The Settings tab: vCPUs, memory, autostart, boot order and menu, title and description.

One form, one operation with only what changed. The form reads the VM's settings from libvirt (one
adapter call) and says before saving which changes take effect now and which from the next boot;
the operation's message says what really happened.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute.services import settings as services
from apps.compute.views.common import vm_or_403, vm_to_change
from apps.compute.virt.settings import BOOT_DEVICES
from apps.core.errors import VirtError

BOOT_SLOTS = 3


def _context(vm, current, values, *, errors=None, message="", read_error=""):
    boot = list(values.get("boot") or [])
    limit = None
    if current is not None:
        limit = min(x for x in (current.host_cpus, current.hypervisor_max_vcpus, vm.host.cpus) if x)
    return {
        "vm": vm,
        "current": current,
        "values": values,
        "boot_slots": [(i, boot[i] if i < len(boot) else "") for i in range(BOOT_SLOTS)],
        "boot_devices": BOOT_DEVICES,
        "vcpu_limit": limit,
        "memory_limit_mib": current.host_memory_kib // 1024 if current is not None else None,
        "errors": errors or {},
        "message": message,
        "read_error": read_error,
    }


def _read(vm):
    try:
        return services.read(vm), ""
    except VirtError as exc:
        return None, str(exc)


@needs("vm.view", per_object=True)
@require_GET
def vm_settings(request, pk):
    vm = vm_or_403(request, pk)
    current, error = _read(vm)
    context = _context(vm, current, services.current_values(current) if current else {}, read_error=error)
    context["can_edit"] = rights(request.user, "vm.edit").allows(vm)
    return render(request, "compute/tabs/settings.html", context)


@needs("vm.edit", per_object=True)
@require_POST
def vm_settings_save(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    post = request.POST
    values = {
        "vcpus": post.get("vcpus", ""),
        "max_vcpus": post.get("max_vcpus", ""),
        "memory_mib": post.get("memory_mib", ""),
        "max_memory_mib": post.get("max_memory_mib", ""),
        "autostart": post.get("autostart") == "on",
        "boot": [post.get(f"boot{i}", "") for i in range(BOOT_SLOTS)],
        "bootmenu": post.get("bootmenu") == "on",
        "title": post.get("title", ""),
        "description": post.get("description", ""),
    }
    current, error = _read(vm)
    errors, message = {}, ""
    if current is None:
        errors[None] = f"Cannot read the VM's settings: {error}"
    else:
        try:
            op = services.vm_settings_change(actor=request.user, vm=vm, current=current, **values)
        except services.SettingsError as exc:
            errors[exc.field] = str(exc)
        else:
            message = f"Saving as operation #{op.pk}: the operations panel says what took effect now and what at the next boot."
    if not request.htmx:
        return (
            redirect("compute:vm_detail", pk=pk)
            if not errors
            else HttpResponse(next(iter(errors.values())), status=400)
        )
    context = _context(vm, current, values, errors={k or "form": v for k, v in errors.items()}, message=message)
    context["can_edit"] = True
    return render(request, "compute/tabs/settings.html#settings_form", context)


urlpatterns = [
    path("<int:pk>/settings/", vm_settings, name="vm_settings"),
    path("<int:pk>/settings/save/", vm_settings_save, name="vm_settings_save"),
]
