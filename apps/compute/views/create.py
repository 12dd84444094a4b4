"""The create wizard (virt-install's parity) and define-from-XML."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from apps.accounts.decorators import needs


@needs("vm.create")
@require_GET
def vm_create(request):
    """Placeholder until this area is built."""
    return HttpResponse("Not built yet.")


urlpatterns = [
    path("new/", vm_create, name="vm_create"),
]
