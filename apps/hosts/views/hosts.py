"""Host pages: the list and one host's page, both read from the database only.

The monitor stores what libvirt says about a host when it connects (facts, capabilities, domain
capabilities, networks), so these pages make no libvirt call and render the same while the host
is down — with what it last reported and why it is down.
"""

from dataclasses import replace

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.authz.granters import read_only_reason
from apps.authz.rights import may, rights
from apps.core.htmx import render_page
from apps.hosts import validation
from apps.hosts.live import with_vm_counts
from apps.hosts.models import Host
from apps.hosts.selectors import hosts_visible
from apps.hosts.virt import capabilities


@needs("host.view", per_object=True)
@require_GET
def host_list(request):
    context = {
        "hosts": with_vm_counts(hosts_visible(request.user)),
        "can_manage": rights(request.user, "host.manage").everything,
    }
    return render_page(request, "hosts/host_list.html", context, partial="host_table")


def stored_capabilities(host):
    """(capabilities, domain capabilities) parsed from what the monitor stored, None where absent."""
    caps = domcaps = None
    if host.capabilities_xml:
        caps = replace(capabilities.parse_capabilities(host.capabilities_xml), node_devices=host.node_devices)
    if host.domain_capabilities_xml:
        domcaps = capabilities.parse_domain_capabilities(host.domain_capabilities_xml)
    return caps, domcaps


def _visible(rows, user, permission):
    """Rows of this host the user may see (a host.view grant alone does not show its VMs' pages)."""
    allowed = rights(user, permission)
    return [row for row in rows if allowed.allows(row)]


@needs("host.view", per_object=True)
@require_GET
def host_detail(request, pk):
    host = get_object_or_404(with_vm_counts(Host.objects.all()), pk=pk)
    if not may(request.user, "host.view", host):
        raise Http404("No such host")  # answered as a missing one, so ids tell nothing
    caps, domcaps = stored_capabilities(host)
    vms = host.vms.filter(present=True).select_related("host").order_by("name")
    pools = host.pools.filter(present=True).select_related("host").order_by("name")
    context = {
        "host": host,
        "caps": caps,
        "domcaps": domcaps,
        "checks": validation.validate_host(host, caps, domcaps),
        "vms": _visible(vms, request.user, "vm.view"),
        "pools": _visible(pools, request.user, "storage.view"),
        "can_manage": rights(request.user, "host.manage").allows(host),
        # Someone who may look at the host but not run VMs on it (a Viewer) is told so.
        "read_only": read_only_reason(request.user, host, "vm.create"),
    }
    return render_page(request, "hosts/host_detail.html", context, partial="host_body")
