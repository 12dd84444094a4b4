"""How compute's live events look to one user: fragments swapped out of band by htmx."""

from django.template.loader import render_to_string

from apps.authz.rights import may
from apps.core import realtime

from .models import VirtualMachine
from .selectors import host_ids_with_visible_vms, vm_rights


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
    vm_rights(user, vm)
    context = {"vm": vm, "oob": True, "change": event.get("change")}
    return render_to_string("compute/live_vm.html", context)
