"""Clone and delete."""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.accounts.authz import authorize
from apps.accounts.decorators import needs
from apps.compute.views.common import vm_or_403


@needs("vm.create", per_object=True)
@require_GET
def vm_clone(request, pk):
    """Placeholder until this area is built."""
    vm = vm_or_403(request, pk)
    authorize(request.user, "vm.create", vm)
    return render(request, "compute/tabs/placeholder.html", {"vm": vm})


@needs("vm.delete", per_object=True)
@require_GET
def vm_delete(request, pk):
    """Placeholder until this area is built."""
    vm = vm_or_403(request, pk)
    authorize(request.user, "vm.delete", vm)
    return render(request, "compute/tabs/placeholder.html", {"vm": vm})


urlpatterns = [
    path("<int:pk>/clone/", vm_clone, name="vm_clone"),
    path("<int:pk>/delete/", vm_delete, name="vm_delete"),
]
