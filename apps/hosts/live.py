"""How a host looks in the partials the pages render and the socket pushes: one presenter, called
by the host views and the live renderer alike."""

from django.db.models import Count, Q
from django.template.loader import render_to_string

from apps.authz.rights import may, rights
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


def host_groups(user, permission, model, scope_type):
    """The live groups of the hosts on which `user` holds `permission`, on the host itself or on
    one of its objects of `model` (granted as `scope_type`): a page of such objects hears of them."""
    r = rights(user, permission)
    if r.everything:
        return [realtime.host_group(pk) for pk in Host.objects.values_list("pk", flat=True)]
    host_ids = set(r.ids("host")) | set(
        model.objects.filter(pk__in=r.ids(scope_type)).values_list("host_id", flat=True)
    )
    return [realtime.host_group(pk) for pk in host_ids]
