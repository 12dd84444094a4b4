"""A host's graphs on its page: CPU % and memory used, from the series the monitor keeps in Redis
(apps/hosts/stats.py). Who may see the host may see them; a host they may not see is not found."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.authz.rights import may
from apps.core.series import graph
from apps.hosts import stats
from apps.hosts.models import Host


@needs("host.view", per_object=True)
@require_GET
@gzip_page
def host_graphs_data(request, pk):
    """?range=15m|1h|24h|7d[&since=<epoch seconds>]: the columns uPlot draws."""
    host = get_object_or_404(Host, pk=pk)
    if not may(request.user, "host.view", host):
        raise Http404("No such host")
    range_name = request.GET.get("range", graph.DEFAULT_RANGE)
    if range_name not in graph.RANGES:
        return JsonResponse({"error": f"range is one of {', '.join(graph.RANGES)}"}, status=400)
    try:
        since = float(request.GET["since"])
    except (KeyError, ValueError):
        since = None
    response = HttpResponse(
        graph.data(stats.LAYOUT, stats.KIND, host.pk, range_name, since=since), content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response
