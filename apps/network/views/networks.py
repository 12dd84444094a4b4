"""The network list, a network's page, and the changes made from it (each one a service call)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.authz.decorators import needs
from apps.authz.granters import read_only_reason
from apps.authz.rights import authorize, rights
from apps.core.htmx import render_page
from apps.hosts.selectors import host_filter, hosts_visible
from apps.network.forms.dhcp import DhcpHostForm
from apps.network.forms.live import LIVE_FORMS, live_form, removal_xml
from apps.network.live import network_page, present_networks
from apps.network.models import VirtualNetwork
from apps.network.selectors import visible_networks, with_attached
from apps.network.services import networks as services
from apps.network.virt.network_xml import dhcp_host_xml


def network_for(user, pk):
    """The network if the user may see it; 404 alike for a missing one and one they may not see."""
    net = with_attached(VirtualNetwork.objects.select_related("host")).filter(pk=pk, present=True).first()
    if net is None or not rights(user, "network.view").allows(net):
        raise Http404("No such network")
    return net


@needs("network.view", per_object=True)
@require_GET
def network_list(request):
    hosts = hosts_visible(request.user)
    host, notes = host_filter(request.user, request.GET.get("host"))
    networks = visible_networks(request.user, with_attached(VirtualNetwork.objects.filter(present=True)))
    if host is not None:
        networks = networks.filter(host=host)
    manage = rights(request.user, "network.manage")
    context = {
        "networks": present_networks(request.user, list(networks.select_related("host"))),
        "hosts": hosts,
        "host": host,
        "notes": notes,
        "can_create": manage.everything or bool(manage.ids("host")),
    }
    return render_page(request, "network/network_list.html", context, partial="network_table")


@needs("network.view", per_object=True)
@require_GET
def network_detail(request, pk):
    net = network_for(request.user, pk)
    context = {
        **network_page(request.user, net),
        "read_only": read_only_reason(request.user, net, "network.manage"),
        "dhcp_form": DhcpHostForm(subnet_cidrs=net.addresses, existing=net.dhcp_hosts),
        "live_forms": _live_forms(net),
    }
    return render_page(request, "network/network_detail.html", context, partial="network_summary")


def _done(request, net):
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("network:network_detail", pk=net.pk)


@needs("network.manage", per_object=True)
@require_POST
def network_action(request, pk, action):
    net = network_for(request.user, pk)
    if action not in services.ACTIONS:
        raise Http404("No such action")
    services.network_action(actor=request.user, network=net, action=action)
    return _done(request, net)


@needs("network.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def network_delete(request, pk):
    """Asks first (a page: the running VMs that use it, if any, and the choice to force them off),
    then deletes. A refusal stays on the page with its reason."""
    net = network_for(request.user, pk)
    authorize(request.user, "network.manage", net)
    context = {**network_page(request.user, net), "users": services.running_users(net)}
    if request.method == "GET":
        return render_page(request, "network/network_delete.html", context)
    try:
        services.network_delete(actor=request.user, network=net, stop_vms=request.POST.get("stop_vms") == "1")
    except services.NetworkError as exc:
        return render_page(request, "network/network_delete.html", {**context, "refusal": str(exc)}, status=409)
    messages.info(request, f"Deleting network {net.name}: follow it in the operations panel.")
    return redirect("network:network_list")


@needs("network.manage", per_object=True)
@require_POST
def dhcp_host_add(request, pk):
    net = network_for(request.user, pk)
    authorize(request.user, "network.manage", net)
    form = DhcpHostForm(request.POST, subnet_cidrs=net.addresses, existing=net.dhcp_hosts)
    if not form.is_valid():
        context = {**network_page(request.user, net), "dhcp_form": form}
        return render_page(request, "network/network_detail.html", context, partial="dhcp_form", status=422)
    host = form.cleaned_data
    services.network_update(
        actor=request.user,
        network=net,
        section="dhcp_host",
        command="add",
        xml=form.to_xml(),
        summary=f"static DHCP host {host['mac']} → {host['ip']}" + (f" ({host['name']})" if host.get("name") else ""),
    )
    context = {
        **network_page(request.user, net),
        "dhcp_form": DhcpHostForm(subnet_cidrs=net.addresses, existing=[]),
        "queued": True,
    }
    return render_page(request, "network/network_detail.html", context, partial="dhcp_form")


@needs("network.manage", per_object=True)
@require_POST
def dhcp_host_remove(request, pk):
    net = network_for(request.user, pk)
    authorize(request.user, "network.manage", net)
    mac = (request.POST.get("mac") or "").lower()
    host = next((h for h in net.dhcp_hosts if h["mac"] == mac), None)
    if host is None:
        return HttpResponse("That static host is not in the network's definition any more.", status=409)
    services.network_update(
        actor=request.user,
        network=net,
        section="dhcp_host",
        command="delete",
        xml=dhcp_host_xml(mac=host["mac"], ip=host["ip"], name=host["name"]),
        summary=f"removed static DHCP host {host['mac']} → {host['ip']}",
    )
    return _done(request, net)


@needs("network.manage", per_object=True)
@require_POST
def network_live(request, pk, section):
    """Add (or, with `remove`, delete) a DHCP range, a DNS host or a portgroup, live."""
    net = network_for(request.user, pk)
    authorize(request.user, "network.manage", net)
    if section not in LIVE_FORMS:
        raise Http404("No such part of a network")
    if "remove" in request.POST:
        found = removal_xml(section, net, request.POST["remove"])
        if found is None:
            return HttpResponse("That entry is not in the network's definition any more.", status=409)
        xml, what = found
        services.network_update(
            actor=request.user, network=net, section=section, command="delete", xml=xml, summary=f"removed {what}"
        )
        return _done(request, net)
    form = live_form(section, net, request.POST)
    status = 422
    if form.is_valid():
        services.network_update(
            actor=request.user,
            network=net,
            section=section,
            command="add",
            xml=form.to_xml(),
            summary=f"added {form.summary()}",
        )
        form, status = live_form(section, net), 200
    context = {
        **network_page(request.user, net),
        "live_forms": _live_forms(net, {section: form}),
        "queued": status == 200,
    }
    return render_page(request, "network/network_detail.html", context, partial="live_forms", status=status)


def _live_forms(net, given=None):
    return [(section, (given or {}).get(section) or live_form(section, net)) for section in LIVE_FORMS]


urlpatterns = [
    path("", network_list, name="network_list"),
    path("<int:pk>/", network_detail, name="network_detail"),
    path("<int:pk>/delete/", network_delete, name="network_delete"),
    path("<int:pk>/dhcp-hosts/", dhcp_host_add, name="dhcp_host_add"),
    path("<int:pk>/dhcp-hosts/remove/", dhcp_host_remove, name="dhcp_host_remove"),
    path("<int:pk>/live/<slug:section>/", network_live, name="network_live"),
    path("<int:pk>/<slug:action>/", network_action, name="network_action"),
]
