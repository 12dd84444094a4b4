"""The VM list: all hosts or one, filtered, sorted and paged in the query, from the inventory
(never a libvirt call per VM); bulk power actions on the selected rows. As a table, or (?view=cards)
as cards that also show each VM's screen, read from the thumbnails the workers keep."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize, rights
from apps.compute import services
from apps.compute.filters import VMListFilter
from apps.compute.forms.listing import BulkOperationsForm, BulkPowerForm
from apps.compute.live import present_vms
from apps.compute.selectors import vms_visible
from apps.compute.services.bulk import vm_bulk_power
from apps.core.htmx import render_page
from apps.hosts.selectors import hosts_visible
from apps.operations.selectors import operations_visible


@needs("vm.view", per_object=True)
@require_GET
def vm_list(request):
    hosts = hosts_visible(request.user)
    filters = VMListFilter(request.GET, hosts=hosts)
    filters.is_valid()  # a host the user may not use is dropped with a note (filters.notes)
    host = filters.cleaned_data.get("host")
    vms = filters.apply(vms_visible(request.user, host_id=host.pk if host else None))
    page = Paginator(vms, filters.cleaned_data.get("per_page") or 50).get_page(request.GET.get("page"))
    present_vms(request.user, page.object_list)
    power = rights(request.user, "vm.power")
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    context = {
        "page": page,
        "vms": page.object_list,
        "hosts": hosts,
        "host": host,
        "filters": filters,
        "sort": filters.cleaned_data.get("sort") or "name",
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "view": "cards" if request.GET.get("view") == "cards" else "table",
        "can_bulk": power.anywhere(),
        "can_create": rights(request.user, "vm.create").anywhere(),
        "bulk_actions": services.POWER_ACTIONS,
    }
    return render_page(request, "compute/vm_list.html", context, partial="vm_table")


@needs("vm.power", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_bulk(request):
    """POST queues one power action on the chosen VMs and answers with what was queued and what
    was refused; each queued VM's line then follows its operation live. GET (?op=…) re-reads
    those lines: the result does so once it is on the page, since an operation may end before
    its line is there to take the live update."""
    if not rights(request.user, "vm.power").anywhere():
        authorize(request.user, "vm.power")  # refused and audited before the input is looked at
    if request.method == "GET":
        form = BulkOperationsForm(request.GET)
        ids = form.cleaned_data["op"] if form.is_valid() else []
        ops = operations_visible(request.user).filter(pk__in=ids).order_by("pk")
        return render(request, "compute/_bulk_result.html#lines", {"operations": ops, "oob": True})
    form = BulkPowerForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose one or more VMs and an action.", status=400)
    result = vm_bulk_power(actor=request.user, vm_ids=form.cleaned_data["vm"], action=form.cleaned_data["action"])
    ids = "&".join(f"op={op.pk}" for op in result.operations)
    return render(
        request, "compute/_bulk_result.html", {"result": result, "operations": result.operations, "op_query": ids}
    )


urlpatterns = [path("bulk/", vm_bulk, name="vm_bulk")]
