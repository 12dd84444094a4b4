"""Clone and delete: a page each, whose form posts back to the same URL.

Bad input re-renders the form with the reason (for htmx, status 200 so it is swapped in); a
queued operation sends the browser to the VM list, where the operations panel shows it live.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize, may
from apps.compute.services import clone as clone_services
from apps.compute.services import delete as delete_services
from apps.compute.views.common import vm_or_403
from apps.core.errors import VirtError
from apps.core.htmx import render_page
from apps.hosts.virt import connection
from apps.storage.models import StoragePool


def _done(request):
    """After queuing: the VM list, where the operations panel follows the work."""
    url = reverse("compute:vm_list")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refused(request, template, context, error):
    """The form again with the reason; htmx swaps only 2xx answers, so it gets 200."""
    context["error"] = str(error)
    status = 200 if request.htmx else 400
    if isinstance(error, PermissionDenied) and not request.htmx:
        status = 403
    return render_page(request, template, context, partial="form", status=status)


# -- clone -----------------------------------------------------------------------------------


def _clone_context(request, vm):
    context = {
        "vm": vm,
        "error": "",
        "plan": None,
        "pools": clone_services.pools_for_copies(request.user, vm),
        "teams": clone_services.team_choices(request.user, vm),
        "name": f"{vm.name}-clone",
        "team_id": vm.team_id,
    }
    try:
        with connection.connected(vm.host.uri) as conn:
            context["plan"] = clone_services.clone_plan(conn, vm)
    except VirtError as exc:
        context["read_error"] = str(exc)
    return context


def _chosen_pools(request, vm, plan):
    """The pool picked for each copied disk (field pool_<target>); unknown ids are ignored, and
    the service refuses a pool the user may not manage."""
    chosen = {}
    for disk in plan.copied if plan else []:
        value = request.POST.get(f"pool_{disk.spec.target}", "")
        if value.isdigit():
            pool = StoragePool.objects.select_related("host").filter(pk=int(value), host=vm.host).first()
            if pool is not None:
                chosen[disk.spec.target] = pool
    return chosen


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
    if request.method != "POST":
        _mark_selected(context["plan"], {})
        return render_page(request, "compute/vm_clone.html", context, partial="form")
    name = request.POST.get("name", "")
    team_id = request.POST.get("team", "")
    team = next((t for t in context["teams"] if str(t.pk) == team_id), None)
    context.update(name=name, team_id=int(team_id) if team_id.isdigit() else vm.team_id)
    pools = _chosen_pools(request, vm, context["plan"])
    _mark_selected(context["plan"], pools)
    try:
        if team_id and team is None:
            raise PermissionDenied("You may not put VMs in that team.")
        clone_services.vm_clone(actor=request.user, vm=vm, name=name, team=team, pools=pools)
    except (clone_services.CloneError, VirtError, PermissionDenied) as exc:
        return _refused(request, "compute/vm_clone.html", context, exc)
    return _done(request)


# -- delete ----------------------------------------------------------------------------------


def _delete_context(request, vm):
    context = {"vm": vm, "error": "", "plan": None, "manage": set()}
    try:
        with connection.connected(vm.host.uri) as conn:
            plan = context["plan"] = delete_services.delete_plan(conn, vm)
        context["manage"] = {v.pool_id for _s, v in plan.deletable if may(request.user, "storage.manage", v.pool)}
    except VirtError as exc:
        context["read_error"] = str(exc)
    return context


@needs("vm.delete", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_delete(request, pk):
    vm = vm_or_403(request, pk)
    authorize(request.user, "vm.delete", vm)
    context = _delete_context(request, vm)
    if request.method != "POST":
        return render_page(request, "compute/vm_delete.html", context, partial="form")
    options = {k: request.POST.get(k) == "on" for k in ("volumes", "snapshots", "nvram")}
    context["options"] = options
    try:
        delete_services.vm_delete(actor=request.user, vm=vm, confirm=request.POST.get("confirm", ""), **options)
    except (delete_services.DeleteError, VirtError, PermissionDenied) as exc:
        return _refused(request, "compute/vm_delete.html", context, exc)
    return _done(request)


urlpatterns = [
    path("<int:pk>/clone/", vm_clone, name="vm_clone"),
    path("<int:pk>/delete/", vm_delete, name="vm_delete"),
]
