from django.db.models import Q

from apps.authz.rights import may, scope_ids

from .models import VirtualMachine


def vms_visible(user, *, host_id=None, include_missing=False):
    """VMs the user may view, filtered in the query (host grants and VM grants)."""
    qs = VirtualMachine.objects.select_related("host")
    if not include_missing:
        qs = qs.filter(present=True)
    if host_id is not None:
        qs = qs.filter(host_id=host_id)
    host_ids = scope_ids(user, "vm.view", "host")
    if host_ids is None:
        return qs
    vm_ids = scope_ids(user, "vm.view", "vm")
    return qs.filter(Q(host_id__in=host_ids) | Q(pk__in=vm_ids))


def host_ids_with_visible_vms(user):
    host_ids = scope_ids(user, "vm.view", "host")
    if host_ids is None:
        return None
    vm_ids = scope_ids(user, "vm.view", "vm")
    return host_ids | set(VirtualMachine.objects.filter(pk__in=vm_ids).values_list("host_id", flat=True))


def vm_for(user, pk):
    """The VM if the user may view it, else None (the caller answers 404 or 403)."""
    vm = VirtualMachine.objects.select_related("host").filter(pk=pk).first()
    if vm is None or not may(user, "vm.view", vm):
        return None
    return vm

