from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from apps.accounts.authz import authorize
from apps.accounts.decorators import needs
from apps.core.htmx import render_page

from . import validation
from .models import Host
from .selectors import hosts_visible
from .virt import capabilities, connection
from .virt.errors import VirtError


@needs("host.view", per_object=True)
@require_GET
def host_list(request):
    hosts = hosts_visible(request.user).annotate(
        vm_count=Count("vms", filter=Q(vms__present=True)),
        running_count=Count("vms", filter=Q(vms__present=True, vms__state="running")),
    )
    return render_page(request, "hosts/host_list.html", {"hosts": hosts}, partial="host_table")


@needs("host.view", per_object=True)
@require_GET
def host_detail(request, pk):
    """Facts from the inventory row, then capabilities and domain capabilities read from libvirt,
    one adapter call each; a host that does not answer still gets its page, with the reason."""
    host = get_object_or_404(Host, pk=pk)
    authorize(request.user, "host.view", host)
    context = {"host": host, "caps": None, "domcaps": None, "caps_error": "", "domcaps_error": ""}
    try:
        with connection.connected(host.uri) as conn:
            context["caps"] = capabilities.host_capabilities(conn)
    except VirtError as exc:
        context["caps_error"] = str(exc)
    if context["caps"] is not None:
        caps = context["caps"]
        try:
            with connection.connected(host.uri) as conn:
                context["domcaps"] = capabilities.domain_capabilities(
                    conn, caps.arch or None, caps.best_domain_type() or None
                )
        except VirtError as exc:
            context["domcaps_error"] = str(exc)
    context["checks"] = validation.validate_host(host, context["caps"], context["domcaps"])
    context["local"] = validation.is_local(host.uri)
    return render(request, "hosts/host_detail.html", context)
