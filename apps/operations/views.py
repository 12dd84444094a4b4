from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.audit.selectors import events_visible
from apps.authz.decorators import needs
from apps.core.htmx import render_page

from .selectors import operations_visible

PANEL_SIZE = 15


@needs("operation.view", per_object=True)
@require_GET
def panel(request):
    """The panel's list, optionally only the user's own and/or only failed operations (the
    page's panel.js sends the filters the person chose; they are remembered in their browser)."""
    ops = operations_visible(request.user)
    mine, failed = request.GET.get("mine") == "1", request.GET.get("failed") == "1"
    if mine:
        ops = ops.filter(actor=request.user)
    if failed:
        ops = ops.filter(status="failed")
    context = {"operations": ops[:PANEL_SIZE], "mine": mine, "failed": failed, "viewer_id": request.user.pk}
    return render_page(request, "operations/panel.html", context, partial="ops_list")


@needs("operation.view", per_object=True)
@require_GET
def operation_detail(request, pk):
    """One operation's record: what, on what, by whom, how it ended, and its audit rows. An
    operation the user may not see answers 404, like one that does not exist."""
    op = get_object_or_404(operations_visible(request.user), pk=pk)
    events = events_visible(request.user).filter(operation_id=op.pk).order_by("id")
    return render(request, "operations/operation_detail.html", {"op": op, "events": events})


urlpatterns = [path("<int:pk>/", operation_detail, name="operation_detail")]
