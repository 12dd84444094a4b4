from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from apps.audit.selectors import events_visible
from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.core.htmx import render_page

from . import filters, runners
from .live import present_operation, present_operations
from .models import FAILURES, Status
from .notify import failures_mark_seen
from .selectors import operations_visible, steps_of, unseen_failures
from .services import operation_cancel

PANEL_SIZE = 15


@needs("operation.view", per_object=True)
@require_GET
def panel(request):
    """The panel's list, optionally only the user's own and/or only failed operations (the
    page's panel.js sends the filters the person chose; they are remembered in their browser).
    Every page loads it, so it also brings the count of the user's unseen failures."""
    ops = operations_visible(request.user)
    mine, failed = request.GET.get("mine") == "1", request.GET.get("failed") == "1"
    if mine:
        ops = ops.filter(actor=request.user)
    if failed:
        ops = ops.filter(status="failed")
    context = {
        "operations": ops[:PANEL_SIZE],
        "mine": mine,
        "failed": failed,
        "viewer_id": request.user.pk,
        "unseen": unseen_failures(request.user),
    }
    return render_page(request, "operations/panel.html", context, partial="ops_list")


@needs("operation.view", per_object=True)  # everyone signed in; rows are filtered by operations_visible
@require_GET
def operation_list(request):
    """The task center: every operation the user may see, filtered, newest first, a page at a
    time by keyset. An htmx request (the filters, the page links, a live re-read) gets its table."""
    form = filters.OperationFilterForm(request.GET)
    page, own_failures = None, False
    if form.is_valid():
        qs = filters.apply(operations_visible(request.user), form.cleaned_data, request.user)
        page = filters.paginate(qs, before=request.GET.get("before"), after=request.GET.get("after"))
        present_operations(request.user, page.rows)
        own_failures = form.own_failures()
        if own_failures:
            failures_mark_seen(actor=request.user)
    context = {
        "form": form,
        "page": page,
        "filters": form.querystring(),
        "unseen": 0 if own_failures else unseen_failures(request.user),
    }
    return render_page(request, "operations/operation_list.html", context, partial="op_table")


@needs("operation.view", per_object=True)
@require_GET
def operation_detail(request, pk):
    """One operation's record: what, on what, by whom, how it ended, its step log and its audit
    rows; re-read live (htmx) as it moves on. An operation the user may not see answers 404,
    like one that does not exist. Opening one's own failure marks it seen."""
    op = get_object_or_404(operations_visible(request.user), pk=pk)
    if op.status in FAILURES and op.actor_id == request.user.pk and not op.failure_seen:
        failures_mark_seen(actor=request.user, op=op)
    events = events_visible(request.user).filter(operation_id=op.pk).order_by("id")
    context = {"op": present_operation(request.user, op), "steps": steps_of(op), "events": events}
    return render_page(request, "operations/operation_detail.html", context, partial="op_record")


@needs("operation.view", per_object=True)  # and the runner's own permission, checked below
@require_POST
def operation_cancel_view(request, pk):
    """Ask an operation to stop: the person who asked for it, or anyone who may do that work on
    its target. A queued one ends at once; a running one, whose runner checks for the request,
    stops at its next check. Answers the button's place with what happened."""
    op = get_object_or_404(operations_visible(request.user), pk=pk)
    if op.status not in (Status.QUEUED, Status.RUNNING):
        return _cancel_answer(request, op, f"Already {op.status}.")
    try:
        runner = runners.get(op.kind)
    except runners.UnknownKind:
        raise Http404("No such kind of operation") from None
    if op.status == Status.RUNNING and not getattr(runner, "cancellable", False):
        return _cancel_answer(request, op, "This operation cannot be stopped midway.", status=409)
    if op.actor_id != request.user.pk:
        authorize(request.user, runner.permission, runner.load(op) or op)
    op = operation_cancel(actor=request.user, op=op)
    return _cancel_answer(request, op, "Cancelled." if op.status == Status.CANCELLED else "Cancel requested.")


def _cancel_answer(request, op, note, status=200):
    if not getattr(request, "htmx", False):
        return redirect("operations:operation_detail", pk=op.pk)
    return HttpResponse(
        format_html('<span class="badge text-bg-warning op-cancel-note">{}</span>', note), status=status
    )


urlpatterns = [
    path("", operation_list, name="operation_list"),
    path("<int:pk>/", operation_detail, name="operation_detail"),
    path("<int:pk>/cancel/", operation_cancel_view, name="operation_cancel"),
]
