"""The Snapshots tab: the tree with the current one, create, revert, delete.

The list is one adapter call in the request (libvirt alone knows snapshots); every change is an
operation. The create form answers htmx with itself (errors by the fields, or "queued"); revert
and delete answer 204 and the tab re-reads itself when the worker has acted.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute.services import snapshots as services
from apps.compute.views.common import vm_or_403, vm_to_change
from apps.compute.virt import snapshots
from apps.core.errors import VirtError
from apps.hosts.virt import connection


def _read(vm):
    try:
        with connection.connected(vm.host.uri) as conn:
            return snapshots.list_snapshots(conn, str(vm.uuid)), ""
    except VirtError as exc:
        return [], str(exc)


@needs("vm.view", per_object=True)
@require_GET
def vm_snapshots(request, pk):
    vm = vm_or_403(request, pk)
    items, error = _read(vm)
    context = {
        "vm": vm,
        "snapshots": items,
        "error": error,
        "can_snapshot": rights(request.user, "vm.snapshot").allows(vm),
        "form": {"kind": "internal"},
    }
    return render(request, "compute/tabs/snapshots.html", context)


@needs("vm.snapshot", per_object=True)
@require_POST
def vm_snapshot_create(request, pk):
    vm = vm_to_change(request, pk, "vm.snapshot")
    data = {
        "name": request.POST.get("name", "").strip(),
        "description": request.POST.get("description", ""),
        "kind": request.POST.get("kind", "internal"),
    }
    error = message = ""
    if data["kind"] not in ("internal", "external"):
        error = "Choose internal or external."
    else:
        items, _read_error = _read(vm)
        try:
            op = services.vm_snapshot_create(
                actor=request.user,
                vm=vm,
                name=data["name"],
                description=data["description"],
                external=data["kind"] == "external",
                existing={s.name for s in items},
            )
        except services.SnapshotError as exc:
            error = str(exc)
        else:
            message = f"Snapshot {op.params['name']} queued as operation #{op.pk}."
            data = {"kind": data["kind"]}
    if not request.htmx:
        return redirect("compute:vm_detail", pk=pk) if not error else HttpResponse(error, status=400)
    context = {"vm": vm, "form": data, "form_error": error, "form_message": message}
    return render(request, "compute/tabs/snapshots.html#create_form", context)


def _act(request, pk, service):
    vm = vm_to_change(request, pk, "vm.snapshot")
    name = request.POST.get("name", "")
    try:
        services.validate_name(name)
    except services.SnapshotError as exc:
        return HttpResponse(str(exc), status=400)
    service(actor=request.user, vm=vm, name=name)
    return HttpResponse(status=204) if request.htmx else redirect("compute:vm_detail", pk=pk)


@needs("vm.snapshot", per_object=True)
@require_POST
def vm_snapshot_revert(request, pk):
    return _act(request, pk, services.vm_snapshot_revert)


@needs("vm.snapshot", per_object=True)
@require_POST
def vm_snapshot_delete(request, pk):
    return _act(request, pk, services.vm_snapshot_delete)


urlpatterns = [
    path("<int:pk>/snapshots/", vm_snapshots, name="vm_snapshots"),
    path("<int:pk>/snapshots/create/", vm_snapshot_create, name="vm_snapshot_create"),
    path("<int:pk>/snapshots/revert/", vm_snapshot_revert, name="vm_snapshot_revert"),
    path("<int:pk>/snapshots/delete/", vm_snapshot_delete, name="vm_snapshot_delete"),
]
