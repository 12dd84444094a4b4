from django.db.models import Count, Q
from django.template.loader import render_to_string

from apps.authz.rights import may
from apps.core import realtime

from .models import Host


@realtime.register_renderer("host")
def render_host(user, event):
    host = (
        Host.objects.filter(pk=event["id"])
        .annotate(
            vm_count=Count("vms", filter=Q(vms__present=True)),
            running_count=Count("vms", filter=Q(vms__present=True, vms__state="running")),
        )
        .first()
    )
    if host is None or not may(user, "host.view", host):
        return ""
    return render_to_string("hosts/live_host.html", {"host": host})
