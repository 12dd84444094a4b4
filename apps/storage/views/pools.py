from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.granters import read_only_reason
from apps.authz.rights import rights
from apps.core.htmx import render_page
from apps.hosts.selectors import host_filter, hosts_visible
from apps.storage.forms.pool_controls import IsoLibraryForm
from apps.storage.live import pool_page, present_pools
from apps.storage.models import StoragePool
from apps.storage.selectors import pool_for, pools_visible
from apps.storage.services import pools as services


@needs("storage.view", per_object=True)
@require_GET
def pool_list(request):
    hosts = hosts_visible(request.user)
    host, notes = host_filter(request.user, request.GET.get("host"))
    pools = present_pools(request.user, list(pools_visible(request.user, host_id=host.pk if host else None)))
    manage = rights(request.user, "storage.manage")
    context = {
        "pools": pools,
        "hosts": hosts,
        "host": host,
        "notes": notes,
        "can_create": manage.everything or bool(manage.ids("host")),
    }
    return render_page(request, "storage/pool_list.html", context, partial="pool_table")


def _pool_or_403(request, pk):
    pool = pool_for(request.user, pk)
    if pool is None:  # missing or not the user's to see: answered alike, so ids tell nothing
        raise Http404("No such pool")
    return pool


@needs("storage.view", per_object=True)
@require_GET
def pool_detail(request, pk):
    pool = _pool_or_403(request, pk)
    context = {**pool_page(request.user, pool), "read_only": read_only_reason(request.user, pool, "storage.manage")}
    return render_page(request, "storage/pool_detail.html", context, partial="pool_summary")


@needs("storage.manage", per_object=True)
@require_POST
def pool_action(request, pk, action):
    pool = get_object_or_404(StoragePool.objects.select_related("host"), pk=pk, present=True)
    if action not in services.POOL_ACTIONS:
        raise Http404("No such action")
    services.pool_action(actor=request.user, pool=pool, action=action)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("storage:pool_detail", pk=pk)


@needs("storage.manage", per_object=True)
@require_POST
def pool_iso_library(request, pk):
    pool = get_object_or_404(StoragePool.objects.select_related("host"), pk=pk, present=True)
    form = IsoLibraryForm(request.POST)
    form.is_valid()  # one optional text field
    services.pool_set_iso_library(actor=request.user, pool=pool, on=form.switch_on())
    return redirect("storage:pool_detail", pk=pk)


urlpatterns = [
    path("", pool_list, name="pool_list"),
    path("<int:pk>/", pool_detail, name="pool_detail"),
    path("<int:pk>/iso-library/", pool_iso_library, name="pool_iso_library"),
    path("<int:pk>/<slug:action>/", pool_action, name="pool_action"),
]
