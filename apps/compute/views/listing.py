"""The VM list: all hosts or one, from the inventory."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from apps.accounts.authz import rights
from apps.accounts.decorators import needs
from apps.compute.selectors import vms_visible
from apps.core.htmx import render_page
from apps.hosts.selectors import hosts_visible


@needs("vm.view", per_object=True)
@require_GET
def vm_list(request):
    hosts = hosts_visible(request.user)
    host = None
    if request.GET.get("host"):
        try:
            host = get_object_or_404(hosts, pk=int(request.GET["host"]))
        except ValueError:
            raise Http404("No such host") from None
    vms = list(vms_visible(request.user, host_id=host.pk if host else None))
    power = rights(request.user, "vm.power")
    for vm in vms:
        vm.can_power = power.allows(vm)
    context = {"vms": vms, "hosts": hosts, "host": host}
    return render_page(request, "compute/vm_list.html", context, partial="vm_table")
