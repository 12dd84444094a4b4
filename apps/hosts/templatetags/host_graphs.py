"""{% host_graphs host %}: the host page's graphs (CPU %, memory used), as the VM page draws its
own (templates/graphs/_charts.html), kept across the page's live re-reads (hx-preserve)."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.series.graph import DEFAULT_RANGE, RANGE_CHOICES

register = template.Library()


@register.inclusion_tag("graphs/_charts.html")
def host_graphs(host):
    return {
        "graphs_id": f"host-graphs-{host.pk}",
        "data_url": reverse("hosts:host_graphs_data", args=[host.pk]),
        "signal": f"stats-{host.pk}",
        "keep": True,
        "charts": [
            ("cpu", _("CPU"), "%", f"cpu:{_('busy')}"),
            ("memory", _("Memory used"), "bytes", f"memory:{_('used (less page cache and buffers)')}"),
        ],
        "ranges": RANGE_CHOICES,
        "range": DEFAULT_RANGE,
    }
