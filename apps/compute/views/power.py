"""Power buttons: each POST queues an Operation; the row follows over the WebSocket."""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.authz.decorators import needs
from apps.compute import services
from apps.compute.views.common import vm_to_change


@needs("vm.power", per_object=True)
@require_POST
def vm_power(request, pk, action):
    if action not in services.POWER_ACTIONS:
        raise Http404("No such action")
    vm = vm_to_change(request, pk, "vm.power")  # 404 for a VM the user may not see, 403 if only seen
    services.vm_power(actor=request.user, vm=vm, action=action)
    if request.htmx:
        # The operations panel and the VM's row follow over the WebSocket.
        return HttpResponse(status=204)
    return redirect("compute:vm_detail", pk=vm.pk)
