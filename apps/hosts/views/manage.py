"""Add, edit and remove hosts: full-page forms for holders of host.manage (administrators).

Saving waits for the connection test (see services.connection_test), so its answer — libvirt's
own words — lands on the form that can still be corrected, and nothing is saved when it fails.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.hosts.forms import HostForm, HostRemoveForm
from apps.hosts.models import Host
from apps.hosts.services import HostError, host_create, host_remove, host_set_vm_bridges, host_update


def _host_form(request, host):
    """Add (host None) or edit a host from its form: the connection is tested on a worker and
    libvirt's refusal comes back on the form; the bridges open to VM users are saved with it."""
    form = HostForm(request.POST or None, host=host)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {"actor": request.user, "name": data["name"], "uri": data["final_uri"], "test_connection": True}
        try:
            saved = host_update(host=host, **fields) if host else host_create(**fields)
            if host or data["vm_bridges"]:
                saved = host_set_vm_bridges(actor=request.user, host=saved, bridges=data["vm_bridges"])
        except HostError as exc:
            form.add_error(None, str(exc))
        else:
            done = "saved" if host else "added: the connection test succeeded"
            messages.success(request, f"Host {saved.name} {done}.")
            return redirect("hosts:host_detail", pk=saved.pk)
    return render(request, "hosts/host_form.html", {"form": form, "host": host})


@needs("host.manage")
@require_http_methods(["GET", "POST"])
def host_add(request):
    return _host_form(request, None)


@needs("host.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def host_edit(request, pk):
    host = get_object_or_404(Host, pk=pk)
    authorize(request.user, "host.manage", host)
    return _host_form(request, host)


@needs("host.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def host_remove_view(request, pk):
    host = get_object_or_404(Host, pk=pk)
    authorize(request.user, "host.manage", host)
    form = HostRemoveForm(request.POST or None, host=host)
    vms = list(host.vms.filter(present=True).order_by("name").values_list("name", flat=True))
    if request.method == "POST" and form.is_valid():
        try:
            host_remove(actor=request.user, host=host, forget_vms=form.cleaned_data["forget_vms"])
        except HostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Host {host.name} removed from kvmweb; nothing on it was changed.")
            return redirect("hosts:host_list")
    return render(request, "hosts/host_confirm_remove.html", {"form": form, "host": host, "vms": vms})
