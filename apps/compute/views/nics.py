"""The NICs tab: add, remove, link up/down."""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.accounts.decorators import needs
from apps.compute.views.common import vm_or_403


@needs("vm.view", per_object=True)
@require_GET
def vm_nics(request, pk):
    """Placeholder until this area is built."""
    vm = vm_or_403(request, pk)
    return render(request, "compute/tabs/placeholder.html", {"vm": vm})


urlpatterns = [
    path("<int:pk>/nics/", vm_nics, name="vm_nics"),
]
