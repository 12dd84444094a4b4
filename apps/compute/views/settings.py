"""The Settings tab: vCPUs, memory, autostart, boot order and menu, title and description.

One form, one operation with only what changed. The form reads the VM's settings from libvirt (one
adapter call) and says before saving which changes take effect now and which from the next boot;
the operation's message says what really happened.
"""

from django.urls import path
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.granters import read_only_reason
from apps.authz.rights import rights
from apps.compute.forms.settings import BOOT_SLOTS, DisplayForm, SettingsForm
from apps.compute.services import display as display_services
from apps.compute.services import settings as services
from apps.compute.views.common import read, submit, tab, vm_or_403, vm_to_change
from apps.compute.virt.settings import BOOT_DEVICES

TEMPLATE = "compute/tabs/settings.html"


def present(vm, current, values):
    """The Settings form's context: `values` as shown (libvirt's, or what was typed), and the
    host's limits from `current` (what libvirt said, None when it could not be read)."""
    boot = list(values.get("boot") or [])
    limit = None
    if current is not None:
        limit = min(x for x in (current.host_cpus, current.hypervisor_max_vcpus, vm.host.cpus) if x)
    return {
        "current": current,
        "values": values,
        "boot_slots": [(i, boot[i] if i < len(boot) else "") for i in range(BOOT_SLOTS)],
        "boot_devices": BOOT_DEVICES,
        "vcpu_limit": limit,
        "memory_limit_mib": current.host_memory_kib // 1024 if current is not None else None,
    }


@needs("vm.view", per_object=True)
@require_GET
def vm_settings(request, pk):
    vm = vm_or_403(request, pk)
    current, error = read(lambda: services.read(vm))
    context = present(vm, current, services.current_values(current) if current else {})
    can_edit = rights(request.user, "vm.edit").allows(vm)
    context.update(
        error=error, can_edit=can_edit, read_only=None if can_edit else read_only_reason(request.user, vm, "vm.edit")
    )
    context["display"], context["display_error"] = read(lambda: display_services.read(vm))
    return tab(request, vm, "settings", TEMPLATE, context)


@needs("vm.edit", per_object=True)
@require_POST
def vm_settings_save(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = SettingsForm(request.POST)
    current, error = read(lambda: services.read(vm))

    def action():
        if current is None:
            raise services.SettingsError(f"Cannot read the VM's settings: {error}")
        return services.vm_settings_change(actor=request.user, vm=vm, current=current, **form.values())

    def answer(form, notice=""):
        context = {**present(vm, current, form.values()), "can_edit": True}
        return tab(request, vm, "settings", TEMPLATE, context, form=form, notice=notice, partial="settings_form")

    def done(op):
        return (
            f"Saving as operation #{op.pk}: the operations panel says what took effect now and what at the next boot."
        )

    return submit(request, vm, form, action, answer, done=done)


@needs("vm.edit", per_object=True)
@require_POST
@sensitive_post_parameters("password")
def vm_display_save(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = DisplayForm(request.POST)
    current, error = read(lambda: display_services.read(vm))

    def action():
        if current is None:
            raise display_services.DisplayError(f"Cannot read the VM's display settings: {error}")
        d = form.cleaned_data
        return display_services.vm_display_change(
            actor=request.user,
            vm=vm,
            password=d["password"],
            clear_password=d["clear_password"],
            add_vnc=d["add_vnc"],
            add_serial=d["add_serial"],
            current=current,
        )

    def answer(form, notice=""):
        context = {"display": current, "display_error": error, "can_edit": True}
        return tab(request, vm, "settings", TEMPLATE, context, form=form, notice=notice, partial="display_form")

    return submit(request, vm, form, action, answer)


urlpatterns = [
    path("<int:pk>/settings/", vm_settings, name="vm_settings"),
    path("<int:pk>/settings/save/", vm_settings_save, name="vm_settings_save"),
    path("<int:pk>/settings/display/", vm_display_save, name="vm_display_save"),
]
