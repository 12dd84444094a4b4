"""A host's network side, read-only: its interfaces with what each is used for, and the wiring
diagram. Both re-read themselves when the host's wiring changes (a "wiring" live signal)."""

from django.db.models import Q
from django.http import Http404
from django.urls import path
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.core.htmx import render_page
from apps.hosts.selectors import hosts_visible
from apps.network.interfaces import is_local
from apps.network.models import HostInterface, Port, VirtualNetwork
from apps.network.selectors import with_attached
from apps.network.wiring import PORT_COLUMNS, may_see_wiring, wiring

FOCUS_PARAMS = ("vm", "network")


def _host(request, pk):
    """The host if the user may see it and its networks; 404 alike otherwise."""
    host = hosts_visible(request.user).filter(pk=pk).first()
    if host is None or not may_see_wiring(request.user, host):
        raise Http404("No such host")
    return host


def interfaces_page(user, host):
    """Each interface with its bridge or bond members and what uses it: the networks that
    forward through it or own it as their bridge, and the NICs of VMs the user may see that sit
    on it (bridge, macvtap, an SR-IOV VF, or the NIC's own tap). Three queries."""
    interfaces = list(HostInterface.objects.filter(host=host).order_by("name"))
    view_networks, view_vms = rights(user, "network.view"), rights(user, "vm.view")
    networks = [
        n for n in with_attached(VirtualNetwork.objects.filter(host=host, present=True)) if view_networks.allows(n)
    ]
    taps = [i.name for i in interfaces if i.kind in ("tap", "macvtap")]
    on_host = Port.objects.filter(host=host, vm__present=True).filter(
        Q(kind__in=("bridge", "direct", "hostdev")) | Q(target__in=taps)
    )
    ports = [p for p in on_host.select_related("vm").only(*PORT_COLUMNS) if view_vms.allows(p.vm)]
    on = {}
    for p in ports:
        if p.kind in ("bridge", "direct") and p.source:
            on.setdefault(p.source, []).append(p)
        if p.kind == "hostdev" and p.source:
            on.setdefault(("pci", p.source), []).append(p)
        if p.target:
            on.setdefault(p.target, []).append(p)
    for i in interfaces:
        i.members = [m.name for m in interfaces if m.master == i.name]
        i.vlans = [m.name for m in interfaces if m.kind == "vlan" and m.parent == i.name]
        i.networks = [n for n in networks if i.name in n.devices or (n.bridge and n.bridge == i.name)]
        seen = on.get(i.name, []) + (on.get(("pci", i.pci_address), []) if i.pci_address else [])
        i.ports = sorted({p.pk: p for p in seen}.values(), key=lambda p: (p.vm.name, p.mac))
    return {"host": host, "interfaces": interfaces, "local": is_local(host)}


@needs("network.view", per_object=True)
@require_GET
def host_interfaces(request, host_pk):
    host = _host(request, host_pk)
    return render_page(request, "network/host_interfaces.html", interfaces_page(request.user, host), partial="table")


@needs("network.view", per_object=True)
@require_GET
def host_wiring(request, host_pk):
    """The diagram; ?vm=<pk> or ?network=<pk> lights that node and everything on its wire."""
    host = _host(request, host_pk)
    focus = next((f"{k}-{request.GET[k]}" for k in FOCUS_PARAMS if request.GET.get(k, "").isdigit()), "")
    context = {"host": host, "diagram": wiring(request.user, host, focus=focus)}
    return render_page(request, "network/host_wiring.html", context, partial="diagram")


urlpatterns = [
    path("hosts/<int:host_pk>/interfaces/", host_interfaces, name="host_interfaces"),
    path("hosts/<int:host_pk>/wiring/", host_wiring, name="host_wiring"),
]
