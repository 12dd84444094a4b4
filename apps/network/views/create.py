"""New networks: pick a host and a forward mode, fill its form, define. Or paste XML.

The pages only validate and show; defining is `network_create`, which queues an Operation for
the host's worker. The new network then arrives in the list live, like any other change.
"""

import ipaddress

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from apps.authz.decorators import needs
from apps.authz.rights import authorize, may
from apps.core.htmx import render_page
from apps.hosts.models import Host
from apps.hosts.selectors import hosts_where
from apps.network.forms.create import MODE_FORMS, Taken
from apps.network.forms.define_xml import NetworkXMLForm
from apps.network.models import VirtualNetwork
from apps.network.services.networks import NetworkError, network_create


def taken_on(host, besides=None):
    """What a new network on `host` must not reuse: names, bridges, subnets (of every network
    but `besides`, the one being edited)."""
    nets = [n for n in VirtualNetwork.objects.filter(host=host, present=True) if besides is None or n.pk != besides.pk]
    subnets = []
    for net in nets:
        for cidr in net.addresses:
            try:
                subnets.append((net.name, ipaddress.ip_interface(cidr).network))
            except ValueError:
                continue
    bridges = {n.bridge for n in nets if n.bridge}
    return Taken(names=frozenset(n.name for n in nets), bridges=frozenset(bridges), subnets=tuple(subnets))


def host_interfaces(host):
    """Host interface names offered for forward devices, macvtap and SR-IOV (hosts.virt reads them
    for the interfaces page; the inventory keeps none yet, so the form takes typed names too)."""
    from apps.network.interfaces import interface_names

    return interface_names(host)


def _host(request, hosts):
    value = request.POST.get("host") or request.GET.get("host") or ""
    if value.isdigit():
        host = Host.objects.filter(pk=int(value)).first()
        if host is not None:
            authorize(request.user, "network.manage", host)  # a forged host id is refused and audited
            return host
        raise Http404("No such host")
    return hosts.first() if hosts.count() == 1 else None


def _start(request):
    hosts = hosts_where(request.user, "network.manage")
    if not hosts.exists():
        authorize(request.user, "network.manage")  # refused, audited, with the error page
    return hosts


def _define(request, host, name, xml):
    network_create(actor=request.user, host=host, name=name, xml=xml)
    messages.info(request, f"Defining network {name} on {host.name}: follow it in the operations panel.")
    url = reverse("network:network_list") + f"?host={host.pk}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _form(mode, host, data=None):
    form_class = MODE_FORMS[mode]
    if host is None:
        return form_class(data, taken=Taken(frozenset(), frozenset(), ()), host_interfaces=())
    return form_class(data, taken=taken_on(host), host_interfaces=host_interfaces(host))


@needs("network.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def network_new(request, mode="nat"):
    if mode not in MODE_FORMS:
        raise Http404("No such forward mode")
    hosts = _start(request)
    host = _host(request, hosts)
    modes = [{"mode": m, "label": f.label, "help": f.help} for m, f in MODE_FORMS.items()]
    context = {"modes": modes, "mode": mode, "hosts": hosts, "host": host}
    if request.method == "POST":
        form = _form(mode, host, request.POST)
        if host is None:
            form.is_valid()
            form.add_error(None, "Choose the host the network is made on.")
        elif form.is_valid():
            try:
                return _define(request, host, form.cleaned_data["name"], form.to_xml())
            except NetworkError as exc:
                form.add_error(None, str(exc))
        return render_page(
            request, "network/network_create.html", {**context, "form": form}, partial="create_form", status=422
        )
    return render_page(
        request, "network/network_create.html", {**context, "form": _form(mode, host)}, partial="create_form"
    )


@needs("network.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def network_new_xml(request):
    hosts = _start(request)
    host = _host(request, hosts)
    context = {"hosts": hosts, "host": host}
    if request.method == "POST":
        taken = taken_on(host) if host is not None else Taken(frozenset(), frozenset(), ())
        form = NetworkXMLForm(
            request.POST, taken=taken, host_manager=host is not None and may(request.user, "host.manage", host)
        )
        if host is None:
            form.is_valid()
            form.add_error(None, "Choose the host the network is made on.")
        elif form.is_valid():
            try:
                return _define(request, host, form.network_name(), form.to_xml())
            except NetworkError as exc:
                form.add_error("xml", str(exc))
        return render_page(request, "network/network_create_xml.html", {**context, "form": form}, status=422)
    return render_page(request, "network/network_create_xml.html", {**context, "form": NetworkXMLForm(taken=None)})


urlpatterns = [
    path("new/", network_new, name="network_new"),
    path("new/xml/", network_new_xml, name="network_new_xml"),
    path("new/<slug:mode>/", network_new, name="network_new_mode"),
]
