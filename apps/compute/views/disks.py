"""The VM page's Disks tab: read from libvirt in one adapter call, changed through services.

Every POST answers an htmx request with the tab itself: with the reason by the form when the input
was refused (nothing changed), or with a note that the operation is queued; its outcome then
arrives live. Without htmx, bad input is a 400 with the reason and success a redirect.
"""

from django.http import Http404
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute import services
from apps.compute.forms.disks import CdromForm, DiskAttachForm, DiskDetachForm, DiskNewForm, DiskResizeForm
from apps.compute.services import disks as disk_services
from apps.compute.views.common import read_on_host, submit, tab, vm_or_403, vm_to_change
from apps.compute.virt import disks
from apps.storage.selectors import iso_images, pools_visible
from apps.storage.virt.volume_xml import FORMATS

UNITS = ("MiB", "GiB", "TiB")


def _attachable(user, vm):
    """Volumes on the VM's host in pools the user may use, grouped by pool for the select."""
    pools = pools_visible(user, host_id=vm.host_id).filter(state="running").prefetch_related("volumes")
    return [(pool, list(pool.volumes.all())) for pool in pools if pool.volumes.all() and not pool.is_iso_library]


def present(user, vm):
    """The Disks tab's context: the disks libvirt lists, and what the user may attach them from."""
    listed, error = read_on_host(vm.host, lambda conn: disks.list_disks(conn, str(vm.uuid)), default=[])
    context = {
        "running": vm.state in ("running", "paused"),
        "can_edit": rights(user, "vm.edit").allows(vm),
        "disks": listed,
        "error": error,
        "has_cdrom": any(d.device == "cdrom" for d in listed),
        "formats": FORMATS,
        "units": UNITS,
        "buses": disk_services.BUSES,
        "cdrom_buses": disk_services.CDROM_BUSES,
    }
    if context["can_edit"]:
        manage = rights(user, "storage.manage")
        context["attachable"] = _attachable(user, vm)
        context["pools"] = [
            p
            for p in pools_visible(user, host_id=vm.host_id).filter(state="running")
            if manage.allows(p) and not p.is_iso_library
        ]
        context["isos"] = iso_images(user, vm.host)
    return context


def _answer(request, vm, *, form=None, notice=""):
    context = present(request.user, vm)
    # What was typed stays in the form that was refused.
    context["values"] = form.data if form is not None and form.errors else {}
    return tab(request, vm, "disks", "compute/tabs/disks.html", context, form=form, notice=notice)


def _send(request, vm, form, action):
    return submit(request, vm, form, action, lambda **kw: _answer(request, vm, **kw))


@needs("vm.view", per_object=True)
@require_GET
def vm_disks(request, pk):
    return _answer(request, vm_or_403(request, pk))


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_attach(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = DiskAttachForm(request.POST)

    def action():
        d = form.cleaned_data
        live, config = form.flags()
        return services.vm_disk_attach(
            actor=request.user, vm=vm, volume=d["volume"], bus=d["bus"], live=live, config=config
        )

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_new(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = DiskNewForm(request.POST)

    def action():
        d = form.cleaned_data
        live, config = form.flags()
        return disk_services.vm_disk_new(
            actor=request.user,
            vm=vm,
            pool=d["pool"],
            name=d["name"],
            capacity=d["capacity"],
            unit=d["unit"],
            format=d["format"],
            preallocate=d["allocation"] == "preallocated",
            bus=d["bus"],
            live=live,
            config=config,
        )

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_detach(request, pk, target):
    vm = vm_to_change(request, pk, "vm.edit")
    form = DiskDetachForm(request.POST)

    def action():
        live, config = form.flags()
        return services.vm_disk_detach(actor=request.user, vm=vm, target=target, live=live, config=config)

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_disk_resize(request, pk, target):
    vm = vm_to_change(request, pk, "vm.edit")
    form = DiskResizeForm(request.POST)

    def action():
        d = form.cleaned_data
        return disk_services.vm_disk_resize(
            actor=request.user, vm=vm, target=target, capacity=d["capacity"], unit=d["unit"]
        )

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_cdrom_media(request, pk, target, action):
    """Insert the chosen ISO into CD-ROM drive `target`, or eject what is in it."""
    if action not in ("insert", "eject"):
        raise Http404("No such CD-ROM action")
    vm = vm_to_change(request, pk, "vm.edit")
    form = CdromForm(request.POST)

    def run():
        live, config = form.flags()
        if action == "eject":
            return disk_services.vm_cdrom_eject(actor=request.user, vm=vm, target=target, live=live, config=config)
        iso = form.cleaned_data["iso"]
        if iso is None:
            raise disk_services.DiskError("Choose an ISO from the library.")
        return disk_services.vm_cdrom_insert(actor=request.user, vm=vm, target=target, volume=iso, live=live, config=config)

    return _send(request, vm, form, run)


@needs("vm.edit", per_object=True)
@require_POST
def vm_cdrom_add(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = CdromForm(request.POST)

    def action():
        d = form.cleaned_data
        return disk_services.vm_cdrom_add(actor=request.user, vm=vm, bus=d["bus"], volume=d["iso"])

    return _send(request, vm, form, action)


urlpatterns = [
    path("<int:pk>/disks/", vm_disks, name="vm_disks"),
    path("<int:pk>/disks/attach/", vm_disk_attach, name="vm_disk_attach"),
    path("<int:pk>/disks/new/", vm_disk_new, name="vm_disk_new"),
    path("<int:pk>/disks/cdrom/add/", vm_cdrom_add, name="vm_cdrom_add"),
    path("<int:pk>/disks/<str:target>/detach/", vm_disk_detach, name="vm_disk_detach"),
    path("<int:pk>/disks/<str:target>/resize/", vm_disk_resize, name="vm_disk_resize"),
    path("<int:pk>/disks/<str:target>/<slug:action>/", vm_cdrom_media, name="vm_cdrom_media"),
]
