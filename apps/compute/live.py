"""How a VM looks to one user, in the partials the pages render and the socket pushes: one presenter
per partial, called by the views (list, detail page) and by the live renderer alike, so a row
pushed live is the row the list drew."""

from django.template.loader import render_to_string

from apps.authz.rights import may, rights
from apps.core import realtime

from .models import VirtualMachine
from .selectors import host_ids_with_visible_vms


def present_vms(user, vms):
    """Mark on each VM what the user may do to it: the buttons its row (compute/_vm_row.html) and
    its summary (vm_detail.html#vm_summary) show. Three rights questions for any number of VMs."""
    power, create, delete = (rights(user, p) for p in ("vm.power", "vm.create", "vm.delete"))
    for vm in vms:
        vm.can_power = power.allows(vm)
        vm.can_clone = create.allows(vm)
        vm.can_delete = delete.allows(vm)
    return vms


def present_vm(user, vm):
    return present_vms(user, [vm])[0]


@realtime.register_groups
def vm_groups(user):
    from apps.hosts.models import Host

    ids = host_ids_with_visible_vms(user)
    if ids is None:
        ids = Host.objects.values_list("pk", flat=True)
    return [realtime.host_group(pk) for pk in ids]


@realtime.register_renderer("vm")
def render_vm(user, event):
    vm = VirtualMachine.objects.select_related("host").filter(pk=event["id"]).first()
    if vm is None or not may(user, "vm.view", vm):
        return ""
    context = {"vm": present_vm(user, vm), "oob": True, "change": event.get("change")}
    return render_to_string("compute/live_vm.html", context)
