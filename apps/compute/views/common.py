"""What every VM page view needs: the VM if the user may view it, or the right refusal."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.compute.models import VirtualMachine
from apps.compute.selectors import vm_for


def vm_or_403(request, pk):
    """The VM, 404 when there is none, 403 when it exists but the user may not view it."""
    vm = vm_for(request.user, pk)
    if vm is None:
        if VirtualMachine.objects.filter(pk=pk).exists():
            raise PermissionDenied("You may not view this VM.")
        raise Http404("No such VM")
    return vm
