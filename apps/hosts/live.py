"""How a host looks in the partials the pages render and the socket pushes: one presenter, called
by the host views and the live renderer alike."""

from django.db.models import Count, Q
from django.template.loader import render_to_string

from apps.authz.rights import may
from apps.core import realtime

from .models import Host


def with_vm_counts(hosts):
    """Hosts with what their row (hosts/_host_row.html) counts: present VMs, running ones."""
    return hosts.annotate(
        vm_count=Count("vms", filter=Q(vms__present=True)),
        running_count=Count("vms", filter=Q(vms__present=True, vms__state="running")),
    )


@realtime.register_renderer("host")
def render_host(user, event):
    host = with_vm_counts(Host.objects.filter(pk=event["id"])).first()
    if host is None or not may(user, "host.view", host):
        return ""
    return render_to_string("hosts/live_host.html", {"host": host})
