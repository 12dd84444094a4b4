"""The VM page's Disks section: read from libvirt in one adapter call, changed through services."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.authz import authorize, rights
from apps.accounts.decorators import needs
from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.compute.views.common import vm_or_403
from apps.compute.virt import disks
from apps.hosts.virt import connection
from apps.hosts.virt.errors import VirtError
from apps.storage.models import StorageVolume
from apps.storage.selectors import pools_visible


def _attachable(user, vm):
    """Volumes on the VM's host in pools the user may use, grouped by pool for the select."""
    pools = pools_visible(user, host_id=vm.host_id).filter(state="running").prefetch_related("volumes")
    return [(pool, list(pool.volumes.all())) for pool in pools if pool.volumes.all()]


@needs("vm.view", per_object=True)
@require_GET
def vm_disks(request, pk):
    vm = vm_or_403(request, pk)
    context = {"vm": vm, "can_edit": rights(request.user, "vm.edit").allows(vm), "error": ""}
    try:
        with connection.connected(vm.host.uri) as conn:
            context["disks"] = disks.list_disks(conn, str(vm.uuid))
    except VirtError as exc:
        context["disks"], context["error"] = [], str(exc)
    if context["can_edit"]:
        context["attachable"] = _attachable(request.user, vm)
    return render(request, "compute/tabs/disks.html", context)


def _flags(request):
    return request.POST.get("live") == "on", request.POST.get("config") == "on"


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_attach(request, pk):
    vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=pk, present=True)
    authorize(request.user, "vm.edit", vm)  # before looking at the input: refusals say nothing of it
    volume_id = request.POST.get("volume", "")
    volume = (
        StorageVolume.objects.select_related("pool__host")
        .filter(pk=int(volume_id) if volume_id.isdigit() else 0)
        .first()
    )
    live, config = _flags(request)
    if volume is None or not (live or config):
        return HttpResponse("Choose a volume, and live, config or both.", status=400)
    bus = request.POST.get("bus", "virtio")
    if bus not in ("virtio", "scsi", "sata"):
        return HttpResponse("Unknown bus.", status=400)
    services.vm_disk_attach(actor=request.user, vm=vm, volume=volume, bus=bus, live=live, config=config)
    return HttpResponse(status=204) if request.htmx else redirect("compute:vm_detail", pk=pk)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_detach(request, pk, target):
    vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=pk, present=True)
    authorize(request.user, "vm.edit", vm)
    live, config = _flags(request)
    if not (live or config):
        return HttpResponse("Choose live, config or both.", status=400)
    if not target.isalnum():
        raise Http404("No such disk")
    services.vm_disk_detach(actor=request.user, vm=vm, target=target, live=live, config=config)
    return HttpResponse(status=204) if request.htmx else redirect("compute:vm_detail", pk=pk)


urlpatterns = [
    path("<int:pk>/disks/", vm_disks, name="vm_disks"),
    path("<int:pk>/disks/attach/", vm_disk_attach, name="vm_disk_attach"),
    path("<int:pk>/disks/<str:target>/detach/", vm_disk_detach, name="vm_disk_detach"),
]
