"""The console pages: the Console and Serial tabs of a VM page, their pop-out windows, the
"Connected now" list and an administrator's "Close" of a session in it.

The consoles themselves are WebSockets (consumers.py), which check the right again when they
open; these pages say why a console cannot open, or carry the noVNC / xterm.js client
(static/js/consoles/) that opens it. A tab is never re-read on a live change, which would tear
down a console in use: its script reconnects, or re-reads the tab only while nothing is open.
"""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import may
from apps.compute.live import present_vm
from apps.compute.views.common import vm_or_403, vm_to_change
from apps.core.csp import allows_terminal
from apps.core.htmx import render_page

from . import services, targets
from .access import VIEW, console_mode, may_close_sessions, refusal
from .models import ConsoleKind, ConsoleSession


def present(user, vm, kind):
    """What a console shows before it connects: why it cannot open (the missing right first, so
    nothing about the VM is read for someone who may not use it; then libvirt's reason), or the
    WebSocket to open and whether it is view-only."""
    context = {"kind": kind, "reason": "", "refused": "", "view_only": False, "vv_url": "", "ws_path": ""}
    refused = refusal(user, vm, kind)
    if refused:
        return {**context, "refused": refused}
    info = targets.describe(vm)
    reason = info.reason if kind == ConsoleKind.VNC else info.serial_reason
    if reason:
        vv_url = (
            reverse("consoles:spice_vv", args=[vm.pk])
            if kind == ConsoleKind.VNC and info.spice and info.running
            else ""
        )
        return {**context, "reason": reason, "vv_url": vv_url, "add_url": add_url(user, vm, kind, info, reason)}
    view_only = kind == ConsoleKind.VNC and console_mode(user, vm, kind) == VIEW
    ws_path = f"/ws/vms/{vm.pk}/{kind}/" + ("?view_only=1" if view_only else "")
    # A VM with SPICE beside VNC may also be opened in remote-viewer (vm.console: not for viewers).
    vv_url = (
        reverse("consoles:spice_vv", args=[vm.pk]) if kind == ConsoleKind.VNC and info.spice and not view_only else ""
    )
    return {**context, "view_only": view_only, "ws_path": ws_path, "vv_url": vv_url, "function_keys": range(1, 13)}


def add_url(user, vm, kind, info, reason):
    """Where someone who may change the VM adds the missing display or serial port (the Settings
    tab's display form; it takes effect at the next boot), when that is what is missing: the VM
    runs, and libvirt could be read and said it has none."""
    if not info.running or info.unreadable or not may(user, "vm.edit", vm):
        return ""
    missing = info.graphics != "vnc" if kind == ConsoleKind.VNC else not info.has_serial
    return reverse("compute:vm_detail", args=[vm.pk]) + "?tab=settings#display-form" if missing else ""


def sessions_context(user, vm):
    return {"sessions": services.open_sessions(vm), "may_close": may_close_sessions(user, vm)}


def _page(request, pk, kind):
    vm = vm_or_403(request, pk)
    context = {
        "vm": present_vm(request.user, vm),
        "tab_url": reverse(f"consoles:{kind}_tab", args=[vm.pk]),
        "window_url": reverse(f"consoles:{kind}_window", args=[vm.pk]),
        **present(request.user, vm, kind),
        **sessions_context(request.user, vm),
    }
    return context


@needs("vm.view", per_object=True)
@require_GET
def vnc_tab(request, pk):
    context = _page(request, pk, ConsoleKind.VNC)
    return render_page(request, "consoles/vnc_tab.html", context)


@needs("vm.view", per_object=True)
@require_GET
def serial_tab(request, pk):
    context = _page(request, pk, ConsoleKind.SERIAL)
    return render_page(request, "consoles/serial_tab.html", context)


def _window(request, pk, kind):
    """A console in a window of its own, with the VM's power buttons; htmx re-reads only the part
    named by ?part= (the power buttons after a VM change, the console while it is closed)."""
    context = _page(request, pk, kind)
    part = request.GET.get("part")
    partial = part if part in ("power", "console") else None
    return render_page(request, "consoles/window.html", context, partial=partial)


@needs("vm.view", per_object=True)
@require_GET
def vnc_window(request, pk):
    return _window(request, pk, ConsoleKind.VNC)


@needs("vm.view", per_object=True)
@require_GET
@allows_terminal  # xterm.js writes <style> elements
def serial_window(request, pk):
    return _window(request, pk, ConsoleKind.SERIAL)


@needs("vm.view", per_object=True)
@require_GET
def sessions(request, pk):
    """Who has a console of this VM open now (re-read when one opens or closes)."""
    vm = vm_or_403(request, pk)
    return render_page(request, "consoles/_sessions.html", {"vm": vm, **sessions_context(request.user, vm)})


@needs("host.manage", per_object=True)
@require_POST
def session_close(request, pk, session_id):
    """An administrator ends someone's console; the list comes back (the socket closes with
    "Closed by <name>." in that person's page)."""
    vm = vm_to_change(request, pk, "host.manage")
    # One already closed answers like a missing one: there is nothing left to close.
    session = get_object_or_404(
        ConsoleSession.objects.select_related("user", "vm"), pk=session_id, vm=vm, closed_at=None
    )
    services.close_session(request.user, session)
    return render_page(request, "consoles/_sessions.html", {"vm": vm, **sessions_context(request.user, vm)})
