"""A network's definition as XML: read it, edit it, save it (checked like a new one)."""

from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize, may
from apps.core.htmx import render_page
from apps.hosts.reads import read_on_host
from apps.network.forms.define_xml import NetworkXMLForm
from apps.network.services.networks import NetworkError, network_edit
from apps.network.virt import networks as network_virt

from .create import taken_on
from .networks import network_for


@needs("network.view", per_object=True)
@require_http_methods(["GET", "POST"])
def network_xml(request, pk):
    net = network_for(request.user, pk)
    context = {"net": net, "can_manage": may(request.user, "network.manage", net)}
    if request.method == "POST":
        authorize(request.user, "network.manage", net)
        host_manager = may(request.user, "host.manage", net.host)
        form = NetworkXMLForm(request.POST, taken=taken_on(net.host, besides=net), host_manager=host_manager)
        if form.is_valid():
            try:
                network_edit(actor=request.user, network=net, xml=form.to_xml())
                return redirect("network:network_detail", pk=net.pk)
            except NetworkError as exc:
                form.add_error("xml", str(exc))
        return render_page(request, "network/network_xml.html", {**context, "form": form}, status=422)
    # The persistent definition an edit starts from, or why the host cannot give it.
    xml, error = read_on_host(net.host, lambda conn: network_virt.network_xml(conn, str(net.uuid), inactive=True), "")
    form = NetworkXMLForm(initial={"xml": xml}, taken=None)
    return render_page(request, "network/network_xml.html", {**context, "form": form, "read_error": error})


urlpatterns = [path("<int:pk>/xml/", network_xml, name="network_xml")]
