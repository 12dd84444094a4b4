"""The QEMU process tab: PID, command line, vCPU-to-thread map, I/O threads, emulator pinning.

Read from libvirt (and, on the local host, /proc) in one adapter call when the tab is shown.
"""

from django.urls import path
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.compute.views.common import read_on_host, tab, vm_or_403
from apps.compute.virt import process


def present(vm):
    """The QEMU process tab's context: the process, or why it cannot be read (`error`)."""
    if not vm.present:
        return {"info": None, "error": "This VM was removed outside kvmweb; it has no process."}
    if vm.host.state == "down":
        return {"info": None, "error": f"Host {vm.host.name} is down: its processes cannot be read now."}
    info, error = read_on_host(vm.host, lambda conn: process.process_info(conn, str(vm.uuid)))
    return {"info": info, "error": error}


@needs("vm.view", per_object=True)
@require_GET
def vm_process(request, pk):
    vm = vm_or_403(request, pk)
    return tab(request, vm, "process", "compute/tabs/process.html", present(vm))


urlpatterns = [
    path("<int:pk>/process/", vm_process, name="vm_process"),
]
