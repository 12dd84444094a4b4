from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.authz import rights
from apps.accounts.decorators import needs
from apps.core.htmx import render_page
from apps.hosts.selectors import hosts_visible

from . import services
from .models import VirtualMachine
from .selectors import vm_for, vms_visible


@needs("vm.view", per_object=True)
@require_GET
def vm_list(request):
    hosts = hosts_visible(request.user)
    host = None
    if request.GET.get("host"):
        try:
            host = get_object_or_404(hosts, pk=int(request.GET["host"]))
        except ValueError:
            raise Http404("No such host") from None
    vms = list(vms_visible(request.user, host_id=host.pk if host else None))
    power = rights(request.user, "vm.power")
    for vm in vms:
        vm.can_power = power.allows(vm)
    context = {"vms": vms, "hosts": hosts, "host": host}
    return render_page(request, "compute/vm_list.html", context, partial="vm_table")


def _vm_or_403(request, pk):
    vm = vm_for(request.user, pk)
    if vm is None:
        if VirtualMachine.objects.filter(pk=pk).exists():
            raise PermissionDenied("You may not view this VM.")
        raise Http404("No such VM")
    return vm


@needs("vm.view", per_object=True)
@require_GET
def vm_detail(request, pk):
    vm = _vm_or_403(request, pk)
    vm.can_power = rights(request.user, "vm.power").allows(vm)
    context = {"vm": vm}
    return render_page(request, "compute/vm_detail.html", context, partial="vm_summary")


@needs("vm.power", per_object=True)
@require_POST
def vm_power(request, pk, action):
    vm = VirtualMachine.objects.select_related("host").filter(pk=pk).first()
    if vm is None:
        raise Http404("No such VM")
    if action not in services.POWER_ACTIONS:
        raise Http404("No such action")
    services.vm_power(actor=request.user, vm=vm, action=action)  # PermissionDenied -> 403
    if request.htmx:
        # The operations panel and the VM's row follow over the WebSocket.
        return HttpResponse(status=204)
    return redirect("compute:vm_detail", pk=vm.pk)
