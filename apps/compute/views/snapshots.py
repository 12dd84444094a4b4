"""The Snapshots tab: the tree with the current one, create, revert, delete.

The list is one adapter call in the request (libvirt alone knows snapshots); every change is an
operation. The create form answers htmx with itself (the reason by it, or "queued"); revert and
delete answer 204 and the tab re-reads itself when the worker has acted.
"""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute.forms.snapshots import SnapshotCreateForm, SnapshotNameForm
from apps.compute.services import snapshots as services
from apps.compute.views.common import read_on_host, submit, tab, vm_or_403, vm_to_change
from apps.compute.virt import snapshots

TEMPLATE = "compute/tabs/snapshots.html"


def _listed(vm):
    """(snapshots, error)."""
    return read_on_host(vm.host, lambda conn: snapshots.list_snapshots(conn, str(vm.uuid)), default=[])


@needs("vm.view", per_object=True)
@require_GET
def vm_snapshots(request, pk):
    vm = vm_or_403(request, pk)
    items, error = _listed(vm)
    context = {
        "snapshots": items,
        "error": error,
        "can_snapshot": rights(request.user, "vm.snapshot").allows(vm),
        "values": {"kind": "internal"},
    }
    return tab(request, vm, "snapshots", TEMPLATE, context)


@needs("vm.snapshot", per_object=True)
@require_POST
def vm_snapshot_create(request, pk):
    vm = vm_to_change(request, pk, "vm.snapshot")
    form = SnapshotCreateForm(request.POST)

    def action():
        d = form.cleaned_data
        items, _error = _listed(vm)
        return services.vm_snapshot_create(
            actor=request.user,
            vm=vm,
            name=d["name"],
            description=d["description"],
            external=d["kind"] == "external",
            existing={s.name for s in items},
        )

    def answer(form, notice=""):
        # Refused: what was typed stays; queued: a fresh form of the same kind.
        values = form.data if form.errors else {"kind": form.cleaned_data["kind"]}
        context = {"can_snapshot": True, "values": values}
        return tab(request, vm, "snapshots", TEMPLATE, context, form=form, notice=notice, partial="create_form")

    def done(op):
        return f"Snapshot {op.params['name']} queued as operation #{op.pk}."

    return submit(request, vm, form, action, answer, done=done)


def _act(request, pk, service):
    vm = vm_to_change(request, pk, "vm.snapshot")
    form = SnapshotNameForm(request.POST)
    if not form.is_valid():
        return HttpResponse(form.refusal, status=400)
    service(actor=request.user, vm=vm, name=form.cleaned_data["name"])
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
