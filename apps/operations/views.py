from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.authz.decorators import needs

from .selectors import operations_visible

PANEL_SIZE = 15


@needs("operation.view", per_object=True)
@require_GET
def panel(request):
    ops = operations_visible(request.user)[:PANEL_SIZE]
    return render(request, "operations/panel.html#ops_list", {"operations": ops})
