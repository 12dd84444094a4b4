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


@needs("host.manage")
@require_http_methods(["GET", "POST"])
def host_add(request):
    form = HostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            host = host_create(actor=request.user, name=data["name"], uri=data["final_uri"], test_connection=True)
            if data["vm_bridges"]:
                host = host_set_vm_bridges(actor=request.user, host=host, bridges=data["vm_bridges"])
        except HostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Host {host.name} added: the connection test succeeded.")
            return redirect("hosts:host_detail", pk=host.pk)
    return render(request, "hosts/host_form.html", {"form": form, "host": None})


@needs("host.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def host_edit(request, pk):
    host = get_object_or_404(Host, pk=pk)
    authorize(request.user, "host.manage", host)
    form = HostForm(request.POST or None, host=host)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            host = host_update(
                actor=request.user, host=host, name=data["name"], uri=data["final_uri"], test_connection=True
            )
            host = host_set_vm_bridges(actor=request.user, host=host, bridges=data["vm_bridges"])
        except HostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Host {host.name} saved.")
            return redirect("hosts:host_detail", pk=host.pk)
    return render(request, "hosts/host_form.html", {"form": form, "host": host})


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
