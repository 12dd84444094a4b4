"""The VM page: the live summary and the tab bar; each tab is its own view and partial, loaded
when chosen and re-read when the VM changes (see static/js/kvmweb.js, "kv:refresh")."""

from django.urls import reverse
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.authz.granters import read_only_reason
from apps.compute.live import present_vm
from apps.compute.views.common import vm_or_403
from apps.core.csp import allows_terminal
from apps.core.htmx import render_page

# (key, label, url name): the order of the tab bar.
TABS = [
    ("overview", "Overview", "compute:vm_overview"),
    ("graphs", "Graphs", "compute:vm_graphs"),
    ("disks", "Disks", "compute:vm_disks"),
    ("nics", "NICs", "compute:vm_nics"),
    ("snapshots", "Snapshots", "compute:vm_snapshots"),
    ("console", "Console", "consoles:vnc_tab"),
    ("serial", "Serial", "consoles:serial_tab"),
    ("settings", "Settings", "compute:vm_settings"),
    ("xml", "XML", "compute:vm_xml"),
    ("process", "QEMU process", "compute:vm_process"),
]

# Shown disabled, with the reason on hover, to someone who may not power the VM.
POWER_LABELS = ["Start", "Shut down", "Reboot", "Force off"]


@needs("vm.view", per_object=True)
@require_GET
@allows_terminal  # the Serial tab's xterm.js loads into this page
def vm_detail(request, pk):
    vm = vm_or_403(request, pk)
    present_vm(request.user, vm)
    tabs = [(key, label, reverse(name, args=[vm.pk])) for key, label, name in TABS]
    tab = request.GET.get("tab", "overview")
    if tab not in {key for key, _, _ in TABS}:
        tab = "overview"
    context = {
        "vm": vm,
        "tabs": tabs,
        "tab": tab,
        "tab_url": dict((k, u) for k, _, u in tabs)[tab],
        # A user who may look but not power the VM (a Viewer) sees why, and the controls greyed.
        "read_only": read_only_reason(request.user, vm, "vm.power"),
        "controls": POWER_LABELS,
        "controls_label": f"power actions for {vm.name} (not allowed)",
    }
    return render_page(request, "compute/vm_detail.html", context, partial="vm_summary")
