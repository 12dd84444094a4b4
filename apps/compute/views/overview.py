"""The Overview tab: state with its reason and since when, sizes, OS variant, autostart, title and
description, and the guest's IP addresses.

Everything but the IP addresses comes from the inventory the monitor keeps; the addresses are
per-request detail, one adapter call (guest agent, else DHCP leases) while the VM runs.
"""

from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.compute.views.common import read_on_host, tab, vm_or_403
from apps.compute.virt import guest

# States in which a guest has a running QEMU process, hence something to ask for addresses.
ALIVE = ("running", "paused", "blocked", "shutdown", "pmsuspended")


def present(vm):
    """The Overview tab's context; `error` says why the addresses could not be asked for."""
    addresses, error = None, ""
    if vm.present and vm.state in ALIVE:
        if vm.host.state == "down":
            error = f"host {vm.host.name} is down"
        else:
            addresses, error = read_on_host(vm.host, lambda conn: guest.interface_addresses(conn, str(vm.uuid)))
    uptime = timezone.now() - vm.state_since if vm.state_since and vm.state in ALIVE else None
    return {"addresses": addresses, "error": error, "uptime": uptime}


@needs("vm.view", per_object=True)
@require_GET
def vm_overview(request, pk):
    vm = vm_or_403(request, pk)
    return tab(request, vm, "overview", "compute/tabs/overview.html", present(vm))


urlpatterns = [
    path("<int:pk>/overview/", vm_overview, name="vm_overview"),
]
