from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.core.htmx import render_page

from . import export, filters, services
from .models import Outcome
from .selectors import events_visible, lines

__all__ = ["events_visible", "event_list", "event_export", "activity"]

ACTIVITY_SIZE = 20


@needs("audit.view", per_object=True)  # everyone signed in; rows are filtered by events_visible
@require_GET
def event_list(request):
    """The audit page; an htmx request (the filter form, the page links) gets only its table."""
    form = filters.EventFilterForm(request.GET)
    page = None
    rows = []
    if form.is_valid():
        qs = filters.apply(events_visible(request.user), form.cleaned_data)
        page = filters.paginate(qs, before=request.GET.get("before"), after=request.GET.get("after"))
        rows = lines(request.user, qs, page.rows)
    context = {
        "form": form,
        "page": page,
        "lines": rows,
        "filters": form.querystring(),
        # Live rows are only added where they belong: the newest page of the unfiltered log.
        "live_tail": page is not None and page.is_newest and not form.active(),
    }
    return render_page(request, "audit/event_list.html", context, partial="event_table")


@needs("audit.view", per_object=True)  # everyone signed in; rows are filtered by events_visible
@require_GET
def event_export(request, fmt):
    """The filtered set, every page of it, streamed; the export itself is recorded."""
    form = filters.EventFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Invalid filters: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
    params = {"format": fmt, "filters": form.active()}
    marker = services.record("audit.export", Outcome.SUCCEEDED, actor=request.user, params=params)
    # Exactly the filtered set as of this click: nothing written after it, not even this record.
    qs = filters.apply(events_visible(request.user), form.cleaned_data).filter(id__lt=marker.pk).order_by("id")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        blocks, content_type = export.csv_blocks(qs), "text/csv; charset=utf-8"
    else:
        blocks, content_type = export.jsonl_blocks(qs), "application/x-ndjson; charset=utf-8"
    return export.streaming_response(request, blocks, content_type=content_type, filename=f"audit-{stamp}.{fmt}")


@needs("audit.view", per_object=True)  # everyone signed in; rows are filtered by events_visible
@require_GET
def activity(request, target_type, target_id):
    """The latest events about one object, for the "Activity" section of its page."""
    qs = events_visible(request.user).filter(target_type=target_type, target_id=target_id)
    events = list(qs.order_by("-id")[:ACTIVITY_SIZE])
    context = {"events": events, "lines": lines(request.user, qs, events), "target_type": target_type, "target_id": target_id}
    return render(request, "audit/activity.html", context)
