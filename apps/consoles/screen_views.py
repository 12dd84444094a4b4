"""A VM's screen thumbnail: the partial that shows it (re-read on kv:screen-PK), the PNG itself,
and "Refresh", which asks the VM's host worker for a new one and answers at once.

Nothing here calls libvirt: the pictures are taken by the worker (screens.py, tasks.py) and read
from Redis. A VM the user may not see is not found; its screen, for someone who may see the VM
but not its console, is refused (and the refusal audited, as for the console itself).
"""

from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.compute.views.common import vm_or_403

from . import screens
from .access import console_mode
from .models import ConsoleKind


def _screen_vm(request, pk):
    """The VM whose screen the user may see: 404 when they may not see the VM, 403 (audited)
    when they may see it but not its console."""
    vm = vm_or_403(request, pk)
    if console_mode(request.user, vm, ConsoleKind.VNC) is None:
        authorize(request.user, "vm.console", vm)
    return vm


@needs("vm.console", per_object=True)
@require_GET
def screen(request, pk):
    """The thumbnail partial (consoles/_screen.html); ?card=1 in the VM list's cards. Someone who
    may see the VM but not its console gets the partial without a picture."""
    vm = vm_or_403(request, pk)
    if console_mode(request.user, vm, ConsoleKind.VNC) is not None and screens.shows_screen(vm):
        screens.mark_viewed(vm)
    return render(request, "consoles/_screen.html", {"vm": vm, "card": request.GET.get("card") == "1"})


@needs("vm.console", per_object=True)
@require_GET
def screen_png(request, pk):
    vm = _screen_vm(request, pk)
    found = screens.png_of(vm)
    if found is None:
        raise Http404("No screen")
    shot, png = found
    screens.mark_viewed(vm)
    etag = f'"{shot.version}"'
    # Revalidated on every use (no-cache): a picture of a console may be stale or no longer ours to see.
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@needs("vm.console", per_object=True)
@require_POST
def screen_refresh(request, pk):
    """202: a new picture is on its way (the partial re-reads itself when it is there); 204:
    nothing to do (the VM is not running, or one was asked for a moment ago)."""
    vm = _screen_vm(request, pk)
    return HttpResponse(status=202 if screens.ask_refresh(vm) else 204)
