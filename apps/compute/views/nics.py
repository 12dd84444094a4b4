"""The NICs tab: what `virsh domiflist` shows plus link state; add, remove, link up/down.

Like the Disks tab, every POST answers htmx with the tab itself: the reason by the form when the
input was refused (nothing changed), or a note that the operation is queued.
"""

from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import may, rights
from apps.compute.forms.nics import NicAddForm, NicRowForm
from apps.compute.services import nics as nic_services
from apps.compute.views.common import read_on_host, submit, tab, vm_or_403, vm_to_change
from apps.compute.virt import nics
from apps.compute.virt.xml.devices import MACVTAP_MODES, NIC_KINDS, NIC_MODELS
from apps.network.selectors import usable_networks
from apps.network.wiring import may_see_wiring


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


def present(user, vm):
    """The NICs tab's context: the NICs, and (for an editor) what a new one can connect to."""
    running = vm.state in ("running", "paused")
    can_edit = rights(user, "vm.edit").allows(vm)

    def listing(conn):
        found = {"nics": _rows(conn, vm, running), "networks": [], "host_ifaces": []}
        if can_edit:
            found["host_ifaces"] = nics.host_interfaces(conn)
        return found

    found, error = read_on_host(vm.host, listing, default={"nics": [], "networks": [], "host_ifaces": []})
    if can_edit:
        found["networks"] = usable_networks(user, vm.host)
    return {
        "wiring": may(user, "host.view", vm.host) and may_see_wiring(user, vm.host),
        "running": running,
        "can_edit": can_edit,
        "error": error,
        "kinds": NIC_KINDS,
        "models": NIC_MODELS,
        "modes": MACVTAP_MODES,
        **found,
    }


def _answer(request, vm, *, form=None, notice=""):
    context = present(request.user, vm)
    context["values"] = form.data if form is not None and form.errors else {}
    return tab(request, vm, "nics", "compute/tabs/nics.html", context, form=form, notice=notice)


def _send(request, vm, form, action):
    return submit(request, vm, form, action, lambda **kw: _answer(request, vm, **kw))


@needs("vm.view", per_object=True)
@require_GET
def vm_nics(request, pk):
    return _answer(request, vm_or_403(request, pk))


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_add(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = NicAddForm(request.POST)

    def action():
        d = form.cleaned_data
        live, config = form.flags()
        return nic_services.vm_nic_add(
            actor=request.user,
            vm=vm,
            kind=d["kind"],
            source=d["source"],
            model=d["model"],
            mac=d["mac"],
            mode=d["mode"],
            live=live,
            config=config,
        )

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_remove(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = NicRowForm(request.POST)

    def action():
        live, config = form.flags()
        return nic_services.vm_nic_remove(
            actor=request.user, vm=vm, mac=form.cleaned_data["mac"], live=live, config=config
        )

    return _send(request, vm, form, action)


@needs("vm.edit", per_object=True)
@require_POST
def vm_nic_link(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = NicRowForm(request.POST)

    def action():
        d = form.cleaned_data
        live, config = form.flags()
        return nic_services.vm_nic_link(
            actor=request.user, vm=vm, mac=d["mac"], state=d["state"], live=live, config=config
        )

    return _send(request, vm, form, action)


urlpatterns = [
    path("<int:pk>/nics/", vm_nics, name="vm_nics"),
    path("<int:pk>/nics/add/", vm_nic_add, name="vm_nic_add"),
    path("<int:pk>/nics/remove/", vm_nic_remove, name="vm_nic_remove"),
    path("<int:pk>/nics/link/", vm_nic_link, name="vm_nic_link"),
]
