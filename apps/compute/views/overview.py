"""The Overview tab: state with reason, uptime, vCPUs, memory, OS variant, autostart, IPs, description.

Everything but the IP addresses comes from the inventory the monitor keeps; the addresses are
per-request detail, one adapter call (guest agent, else DHCP leases) while the VM runs.
"""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.compute.views.common import vm_or_403
from apps.compute.virt import guest
from apps.core.errors import VirtError
from apps.hosts.virt import connection

# States in which a guest has a running QEMU process, hence something to ask for addresses.
ALIVE = ("running", "paused", "blocked", "shutdown", "pmsuspended")


def _addresses(vm):
    """(Addresses or None, error text)."""
    if not vm.present or vm.state not in ALIVE:
        return None, ""
    if vm.host.state == "down":
        return None, f"host {vm.host.name} is down"
    try:
        with connection.connected(vm.host.uri) as conn:
            return guest.interface_addresses(conn, str(vm.uuid)), ""
    except VirtError as exc:
        return None, str(exc)


@needs("vm.view", per_object=True)
@require_GET
def vm_overview(request, pk):
    vm = vm_or_403(request, pk)
    addresses, ip_error = _addresses(vm)
    uptime = timezone.now() - vm.state_since if vm.state_since and vm.state in ALIVE else None
    context = {"vm": vm, "addresses": addresses, "ip_error": ip_error, "uptime": uptime}
    return render(request, "compute/tabs/overview.html", context)


urlpatterns = [
    path("<int:pk>/overview/", vm_overview, name="vm_overview"),
]
