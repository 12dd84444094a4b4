from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.views.decorators.http import require_GET

from apps.accounts.authz import has_global, scope_ids
from apps.core.htmx import render_page

from .models import AuditEvent

PAGE_SIZE = 50


def events_visible(user):
    """Auditors and admins see everything; others see events about hosts they may view and
    their own actions."""
    if has_global(user, "audit.view"):
        return AuditEvent.objects.all()
    host_ids = scope_ids(user, "host.view", "host")
    if host_ids is None:
        return AuditEvent.objects.filter(Q(host_id__isnull=False) | Q(actor=user))
    return AuditEvent.objects.filter(Q(host_id__in=host_ids) | Q(actor=user))


@login_required
@require_GET
def event_list(request):
    page = Paginator(events_visible(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "audit/event_list.html", {"page": page}, partial="event_table")
