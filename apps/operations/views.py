from django.views.decorators.http import require_GET

from apps.authz.decorators import needs
from apps.core.htmx import render_page

from .selectors import operations_visible

PANEL_SIZE = 15


@needs("operation.view", per_object=True)
@require_GET
def panel(request):
    ops = operations_visible(request.user)[:PANEL_SIZE]
    return render_page(request, "operations/panel.html", {"operations": ops}, partial="ops_list")
