"""Clone and delete: a page each, whose form posts back to the same URL.

Bad input re-renders the form with the reason (for htmx, status 200 so it is swapped in); a
queued operation sends the browser to the VM list, where the operations panel shows it live.
Both pages use the keys of a tab (see common.py): `form`, whose errors are the refusal, and
`error`, what could not be read from libvirt.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize, rights
from apps.compute.forms.lifecycle import CloneForm, DeleteForm
from apps.compute.services import clone as clone_services
from apps.compute.services import delete as delete_services
from apps.compute.views.common import read_on_host, send, vm_or_403
from apps.core.htmx import render_page
from apps.storage.models import StoragePool


def _done(request):
    """After queuing: the VM list, where the operations panel follows the work."""
    url = reverse("compute:vm_list")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _page(request, template, context, form=None):
    """The page, or its form for htmx; a refused form is 200 for htmx (which swaps only 2xx
    answers), else 400, or 403 when a right was missing."""
    status = 200
    if form is not None and form.errors and not request.htmx:
        status = 403 if form.denied else 400
    return render_page(request, template, {"form": form, **context}, partial="form", status=status)


# -- clone -----------------------------------------------------------------------------------


def _clone_context(request, vm):
    plan, error = read_on_host(vm.host, lambda conn: clone_services.clone_plan(conn, vm))
    return {
        "vm": vm,
        "error": error,
        "plan": plan,
        "pools": clone_services.pools_for_copies(request.user, vm),
        "teams": clone_services.team_choices(request.user, vm),
        "values": {"name": f"{vm.name}-clone", "team_id": vm.team_id},
    }


def _chosen_pools(vm, picked):
    """The pool picked for each copied disk, among the host's; the service refuses a pool the
    user may not manage."""
    pools = StoragePool.objects.select_related("host").filter(pk__in=picked.values(), host=vm.host).in_bulk()
    return {target: pools[pk] for target, pk in picked.items() if pk in pools}


def _mark_selected(plan, chosen):
    """Which pool each copy's select shows: the one picked, else the pool the disk is in."""
    for disk in plan.copied if plan else []:
        pool = chosen.get(disk.spec.target)
        disk.selected_pool_id = pool.pk if pool else disk.volume.pool_id if disk.volume else None


@needs("vm.create", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_clone(request, pk):
    vm = vm_or_403(request, pk)
    authorize(request.user, "vm.create", vm)
    context = _clone_context(request, vm)
    plan = context["plan"]
    if request.method != "POST":
        _mark_selected(plan, {})
        return _page(request, "compute/vm_clone.html", context)
    form = CloneForm(request.POST, plan=plan)
    pools = {}
    if form.is_valid():
        team_id = form.cleaned_data["team"]
        context["values"] = {
            "name": form.cleaned_data["name"],
            "team_id": int(team_id) if team_id.isdigit() else vm.team_id,
        }
        pools = _chosen_pools(vm, form.pool_ids())
    _mark_selected(plan, pools)

    def action():
        team_id = form.cleaned_data["team"]
        team = next((t for t in context["teams"] if str(t.pk) == team_id), None)
        if team_id and team is None:
            raise PermissionDenied("You may not put VMs in that team.")
        return clone_services.vm_clone(
            actor=request.user, vm=vm, name=form.cleaned_data["name"], team=team, pools=pools
        )

    if send(form, action, also=(PermissionDenied,)) is None:
        return _page(request, "compute/vm_clone.html", context, form)
    return _done(request)


# -- delete ----------------------------------------------------------------------------------


def _delete_context(request, vm):
    plan, error = read_on_host(vm.host, lambda conn: delete_services.delete_plan(conn, vm))
    manage = rights(request.user, "storage.manage")
    return {
        "vm": vm,
        "error": error,
        "plan": plan,
        "manage": {v.pool_id for _s, v in plan.deletable if manage.allows(v.pool)} if plan else set(),
    }


@needs("vm.delete", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_delete(request, pk):
    vm = vm_or_403(request, pk)
    authorize(request.user, "vm.delete", vm)
    context = _delete_context(request, vm)
    if request.method != "POST":
        return _page(request, "compute/vm_delete.html", context)
    form = DeleteForm(request.POST)
    if form.is_valid():
        context["options"] = form.options()

    def action():
        return delete_services.vm_delete(
            actor=request.user, vm=vm, confirm=form.cleaned_data["confirm"], **form.options()
        )

    if send(form, action, also=(PermissionDenied,)) is None:
        return _page(request, "compute/vm_delete.html", context, form)
    return _done(request)


urlpatterns = [
    path("<int:pk>/clone/", vm_clone, name="vm_clone"),
    path("<int:pk>/delete/", vm_delete, name="vm_delete"),
]
