"""The graphs: a VM's Graphs tab and its data, the VM list's CPU sparklines, and the fleet's busiest
VMs. Everything is read from the series the monitor keeps in Redis (apps/compute/stats), never
from the hypervisor; who may see a VM may see its graphs (vm.view), and one they may not is not found.
"""

import json

from django.http import HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.compute.selectors import host_ids_with_visible_vms, vms_visible
from apps.compute.stats import busiest, reads
from apps.compute.views.common import tab, vm_or_403
from apps.core.htmx import render_page
from apps.core.series.graph import DEFAULT_RANGE, RANGE_CHOICES, RANGES
from apps.hosts.models import Host

SPARK_LIMIT = 500  # VMs in one sparkline request (a list page shows at most 200)
BUSIEST_COUNT = 10


def range_of(request):
    value = request.GET.get("range", DEFAULT_RANGE)
    return value if value in RANGES else None


def since_of(request):
    try:
        return float(request.GET["since"])
    except (KeyError, ValueError):
        return None


def charts():
    """The VM's charts (templates/graphs/_charts.html): key, title, unit, "field:label|…"."""
    return [
        ("cpu", _("CPU"), "%", f"cpu:{_('of its vCPUs')}|cpu_host:{_('of the host')}"),
        ("memory", _("Memory used"), "bytes", f"memory:{_('used')}"),
        ("disk", _("Disk"), "bytes/s", f"disk_read:{_('read')}|disk_write:{_('written')}"),
        ("network", _("Network"), "bytes/s", f"net_rx:{_('received')}|net_tx:{_('sent')}"),
        ("disk_iops", _("Disk requests"), "/s", f"disk_read_iops:{_('reads')}|disk_write_iops:{_('writes')}"),
        ("network_pps", _("Network packets"), "/s", f"net_rx_pps:{_('received')}|net_tx_pps:{_('sent')}"),
    ]


@needs("vm.view", per_object=True)
@require_GET
def vm_graphs(request, pk):
    vm = vm_or_403(request, pk)
    context = {
        "graphs_id": f"vm-graphs-{vm.pk}",
        "data_url": reverse("compute:vm_graphs_data", args=[vm.pk]),
        "signal": f"stats-{vm.host_id}",
        "charts": charts(),
        "ranges": RANGE_CHOICES,
        "range": DEFAULT_RANGE,
    }
    return tab(request, vm, "graphs", "compute/tabs/graphs.html", context)


def json_text(text):
    response = HttpResponse(text, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@needs("vm.view", per_object=True)
@require_GET
@gzip_page  # a day of a VM is a few hundred kB of numbers, which compress well
def vm_graphs_data(request, pk):
    """?range=15m|1h|24h|7d[&since=<epoch seconds>]: the columns uPlot draws (see
    apps/core/series/graph.py); with `since`, only the newer points."""
    vm = vm_or_403(request, pk)
    range_name = range_of(request)
    if range_name is None:
        return JsonResponse({"error": f"range is one of {', '.join(RANGES)}"}, status=400)
    return json_text(reads.vm_graph(vm, range_name, since=since_of(request)))


@needs("vm.view", per_object=True)
@require_GET
@gzip_page
def vm_sparklines(request):
    """?vm=<pk>&vm=…: the last half hour of CPU per minute of each of these VMs the user may see,
    in one answer for a whole list page: {"<pk>": [percent or null, …]}."""
    ids = [int(v) for v in request.GET.getlist("vm")[:SPARK_LIMIT] if v.isdigit()]
    vms = list(vms_visible(request.user).select_related(None).filter(pk__in=ids).only("pk", "host_id", "uuid"))
    return json_text(json.dumps(reads.sparklines(vms), separators=(",", ":")))


def _visible_pairs(user):
    def visible(pairs):
        by_pair = {}
        uuids = {uuid for _host, uuid in pairs}
        for vm in vms_visible(user).filter(uuid__in=uuids).select_related("host"):
            by_pair[(vm.host_id, str(vm.uuid))] = vm
        return by_pair

    return visible


@needs("vm.view", per_object=True)
@require_GET
def vm_busiest(request):
    """The fleet's busiest VMs over the last quarter hour, by CPU, disk and network: only VMs the
    user may see, from the hosts they see VMs on."""
    host_ids = host_ids_with_visible_vms(request.user)
    if host_ids is None:
        host_ids = Host.objects.values_list("pk", flat=True)
    usages = busiest.read(host_ids)
    visible = _visible_pairs(request.user)
    rankings = [
        (name, label, busiest.top(usages, name, visible, count=BUSIEST_COUNT))
        for name, (_fields, label) in busiest.RANKINGS.items()
    ]
    return render_page(request, "compute/vm_busiest.html", {"rankings": rankings}, partial="busiest_tables")


urlpatterns = [
    path("<int:pk>/graphs/", vm_graphs, name="vm_graphs"),
    path("<int:pk>/graphs/data", vm_graphs_data, name="vm_graphs_data"),
    path("sparklines/", vm_sparklines, name="vm_sparklines"),
    path("busiest/", vm_busiest, name="vm_busiest"),
]
