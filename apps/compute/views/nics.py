"""The NICs tab: what `virsh domiflist` shows plus link state; add, remove, link up/down.

Like the Disks tab, every POST answers htmx with the tab itself: the reason by the form when the
input was refused (nothing changed), or a note that the operation is queued.
"""

from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute.services import nics as nic_services
from apps.compute.views.common import act_in_tab, scope_flags, vm_or_403, vm_to_change
from apps.compute.virt import nics
from apps.compute.virt.xml.devices import MACVTAP_MODES, NIC_KINDS, NIC_MODELS
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from apps.hosts.virt import networks as host_networks


def _tab(request, vm, *, form="", error="", notice=""):
    request.path = reverse("compute:vm_nics", args=[vm.pk])  # tabs/base.html re-reads from here
    context = {
        "vm": vm,
        "running": vm.state in ("running", "paused"),
        "can_edit": rights(request.user, "vm.edit").allows(vm),
        "error": "",
        "form": form,
        "form_error": error,
        "notice": notice,
        "posted": request.POST if error else {},
        "kinds": NIC_KINDS,
        "models": NIC_MODELS,
        "modes": MACVTAP_MODES,
        "networks": [],
        "host_ifaces": [],
    }
    try:
        with connection.connected(vm.host.uri) as conn:
            context["nics"] = _rows(conn, vm, context["running"])
            if context["can_edit"]:
                context["networks"] = host_networks.list_networks(conn)
                context["host_ifaces"] = nics.host_interfaces(conn)
    except VirtError as exc:
        context["nics"], context["error"] = [], str(exc)
    return render(request, "compute/tabs/nics.html", context)


def _rows(conn, vm, running):
    """(NIC, note): the running VM's NICs, and for a running VM also those only in its saved
    configuration, so a change made with --config alone is visible too."""
    live = nics.list_nics(conn, str(vm.uuid))
    if not running:
        return [(n, "") for n in live]
    saved = nics.list_nics(conn, str(vm.uuid), inactive=True)
    saved_macs, live_macs = {n.mac for n in saved}, {n.mac for n in live}
    rows = [(n, "" if n.mac in saved_macs else "until power-off") for n in live]
    return rows + [(n, "from next start") for n in saved if n.mac not in live_macs]


@needs("vm.view", per_object=True)
@require_GET
def vm_nics(request, pk):
    return _tab(request, vm_or_403(request, pk))


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_add(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    p = request.POST
    kind = p.get("kind", "network")
    source = p.get("network", "") if kind == "network" else p.get("source", "").strip()

    def action():
        return nic_services.vm_nic_add(
            actor=request.user,
            vm=vm,
            kind=kind,
            source=source,
            model=p.get("model", "virtio"),
            mac=p.get("mac", ""),
            mode=p.get("mode") or None,
            live=live,
            config=config,
        )

    return act_in_tab(request, vm, "add", action, _tab)


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_remove(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    mac = request.POST.get("mac", "")
    return act_in_tab(
        request,
        vm,
        "row",
        lambda: nic_services.vm_nic_remove(actor=request.user, vm=vm, mac=mac, live=live, config=config),
        _tab,
    )


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_link(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    live, config = scope_flags(request)
    mac, state = request.POST.get("mac", ""), request.POST.get("state", "")
    return act_in_tab(
        request,
        vm,
        "row",
        lambda: nic_services.vm_nic_link(actor=request.user, vm=vm, mac=mac, state=state, live=live, config=config),
        _tab,
    )


urlpatterns = [
    path("<int:pk>/nics/", vm_nics, name="vm_nics"),
    path("<int:pk>/nics/add/", vm_nic_add, name="vm_nic_add"),
    path("<int:pk>/nics/remove/", vm_nic_remove, name="vm_nic_remove"),
    path("<int:pk>/nics/link/", vm_nic_link, name="vm_nic_link"),
]
