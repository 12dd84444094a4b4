"""The .vv file for remote-viewer (spice.py makes it): a POST, since asking sets a ticket."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from apps.authz.decorators import needs
from apps.compute.views.common import vm_to_change

from .spice import SpiceError, spice_file


@needs("vm.console", per_object=True)
@require_POST
def spice_vv(request, pk):
    vm = vm_to_change(request, pk, "vm.console")
    try:
        text = spice_file(request.user, vm, browser_host=request.get_host().rsplit(":", 1)[0].strip("[]"))
    except SpiceError as exc:
        context = {"vm": vm, "title": "No SPICE console", "reason": str(exc)}
        return render(request, "consoles/spice_refused.html", context, status=409)
    response = HttpResponse(text, content_type="application/x-virt-viewer")
    response["Content-Disposition"] = f'attachment; filename="{vm.name}.vv"'
    response["Cache-Control"] = "no-store"
    return response
