"""The VM page's Disks tab: read from libvirt in one adapter call, changed through services.

Every POST answers an htmx request with the tab itself: with the reason by the form when the input
was refused (nothing changed), or with a note that the operation is queued; its outcome then
arrives live. Without htmx, bad input is a 400 with the reason and success a redirect.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute import services
from apps.compute.services import cdrom
from apps.compute.services import disks as disk_services
from apps.compute.views.common import act_in_tab, scope_flags, vm_or_403, vm_to_change
from apps.compute.virt import disks
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.selectors import iso_images, pools_visible
from apps.storage.virt.volume_xml import FORMATS

UNITS = ("MiB", "GiB", "TiB")


def _attachable(user, vm):
    """Volumes on the VM's host in pools the user may use, grouped by pool for the select."""
    pools = pools_visible(user, host_id=vm.host_id).filter(state="running").prefetch_related("volumes")
    return [(pool, list(pool.volumes.all())) for pool in pools if pool.volumes.all() and not pool.is_iso_library]


def _tab(request, vm, *, form="", error="", notice=""):
    # tabs/base.html re-reads the section from request.path: after a POST that must be the tab.
    request.path = reverse("compute:vm_disks", args=[vm.pk])
    running = vm.state in ("running", "paused")
    context = {
        "vm": vm,
        "running": running,
        "can_edit": rights(request.user, "vm.edit").allows(vm),
        "error": "",
        "form": form,
        "form_error": error,
        "notice": notice,
        "posted": request.POST if error else {},
        "formats": FORMATS,
        "units": UNITS,
        "buses": disk_services.BUSES,
        "cdrom_buses": cdrom.CDROM_BUSES,
    }
    try:
        with connection.connected(vm.host.uri) as conn:
            context["disks"] = disks.list_disks(conn, str(vm.uuid))
    except VirtError as exc:
        context["disks"], context["error"] = [], str(exc)
    context["has_cdrom"] = any(d.device == "cdrom" for d in context["disks"])
    if context["can_edit"]:
        manage = rights(request.user, "storage.manage")
        context["attachable"] = _attachable(request.user, vm)
        context["pools"] = [
            p
            for p in pools_visible(request.user, host_id=vm.host_id).filter(state="running")
            if manage.allows(p) and not p.is_iso_library
        ]
        context["isos"] = iso_images(request.user, vm.host)
    return render(request, "compute/tabs/disks.html", context)


@needs("vm.view", per_object=True)
@require_GET
def vm_disks(request, pk):
    return _tab(request, vm_or_403(request, pk))


def _by_pk(model, value):
    value = str(value or "")
    return model.objects.select_related("pool__host").filter(pk=int(value)).first() if value.isdigit() else None


def _need(value, message):
    if value is None:
        raise disk_services.DiskError(message)
    return value


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_attach(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    volume = _by_pk(StorageVolume, request.POST.get("volume"))

    def action():
        chosen = _need(volume, "Choose a volume.")
        bus = request.POST.get("bus", "virtio")
        return services.vm_disk_attach(actor=request.user, vm=vm, volume=chosen, bus=bus, live=live, config=config)

    return act_in_tab(request, vm, "attach", action, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_new(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    p = request.POST
    pool = StoragePool.objects.select_related("host").filter(pk=int(p["pool"]) if p.get("pool", "").isdigit() else 0)

    def action():
        return disk_services.vm_disk_new(
            actor=request.user,
            vm=vm,
            pool=_need(pool.first(), "Choose a pool for the new volume."),
            name=p.get("name", ""),
            capacity=p.get("capacity", ""),
            unit=p.get("unit", "GiB"),
            format=p.get("format", "qcow2"),
            preallocate=p.get("allocation") == "preallocated",
            bus=p.get("bus", "virtio"),
            live=live,
            config=config,
        )

    return act_in_tab(request, vm, "new", action, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_detach(request, pk, target):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)

    def action():
        return services.vm_disk_detach(actor=request.user, vm=vm, target=target, live=live, config=config)

    return act_in_tab(request, vm, "detach", action, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_resize(request, pk, target):
    vm = vm_to_change(request, pk, "vm.edit")

    def action():
        return disk_services.vm_disk_resize(
            actor=request.user,
            vm=vm,
            target=target,
            capacity=request.POST.get("capacity", ""),
            unit=request.POST.get("unit", "GiB"),
        )

    return act_in_tab(request, vm, "resize", action, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_cdrom_media(request, pk, target, action):
    """Insert the chosen ISO into CD-ROM drive `target`, or eject what is in it."""
    if action not in ("insert", "eject"):
        raise Http404("No such CD-ROM action")
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    volume = _by_pk(StorageVolume, request.POST.get("iso"))

    def run():
        if action == "eject":
            return cdrom.vm_cdrom_eject(actor=request.user, vm=vm, target=target, live=live, config=config)
        iso = _need(volume, "Choose an ISO from the library.")
        return cdrom.vm_cdrom_insert(actor=request.user, vm=vm, target=target, volume=iso, live=live, config=config)

    return act_in_tab(request, vm, "cdrom", run, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_cdrom_add(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    volume = _by_pk(StorageVolume, request.POST.get("iso"))

    def action():
        return cdrom.vm_cdrom_add(actor=request.user, vm=vm, bus=request.POST.get("bus", ""), volume=volume)

    return act_in_tab(request, vm, "cdrom", action, _tab)


urlpatterns = [
    path("<int:pk>/disks/", vm_disks, name="vm_disks"),
    path("<int:pk>/disks/attach/", vm_disk_attach, name="vm_disk_attach"),
    path("<int:pk>/disks/new/", vm_disk_new, name="vm_disk_new"),
    path("<int:pk>/disks/cdrom/add/", vm_cdrom_add, name="vm_cdrom_add"),
    path("<int:pk>/disks/<str:target>/detach/", vm_disk_detach, name="vm_disk_detach"),
    path("<int:pk>/disks/<str:target>/resize/", vm_disk_resize, name="vm_disk_resize"),
    path("<int:pk>/disks/<str:target>/<slug:action>/", vm_cdrom_media, name="vm_cdrom_media"),
]
