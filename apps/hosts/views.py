from django.db.models import Count, Q
from django.views.decorators.http import require_GET

from apps.accounts.decorators import needs
from apps.core.htmx import render_page

from .selectors import hosts_visible


@needs("host.view", per_object=True)
@require_GET
def host_list(request):
    hosts = hosts_visible(request.user).annotate(
        vm_count=Count("vms", filter=Q(vms__present=True)),
        running_count=Count("vms", filter=Q(vms__present=True, vms__state="running")),
    )
    return render_page(request, "hosts/host_list.html", {"hosts": hosts}, partial="host_table")
