"""The QEMU process tab: PID, command line, vCPU-to-thread map, I/O threads, emulator pinning.

Read from libvirt (and, on the local host, /proc) in one adapter call when the tab is shown.
"""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.compute.views.common import vm_or_403
from apps.compute.virt import process
from apps.core.errors import VirtError
from apps.hosts.virt import connection


@needs("vm.view", per_object=True)
@require_GET
def vm_process(request, pk):
    vm = vm_or_403(request, pk)
    context = {"vm": vm, "info": None, "error": ""}
    if not vm.present:
        context["error"] = "This VM was removed outside kvmweb; it has no process."
    elif vm.host.state == "down":
        context["error"] = f"Host {vm.host.name} is down: its processes cannot be read now."
    else:
        try:
            with connection.connected(vm.host.uri) as conn:
                context["info"] = process.process_info(conn, str(vm.uuid))
        except VirtError as exc:
            context["error"] = str(exc)
    return render(request, "compute/tabs/process.html", context)


urlpatterns = [
    path("<int:pk>/process/", vm_process, name="vm_process"),
]
