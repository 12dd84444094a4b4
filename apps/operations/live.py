from django.template.loader import render_to_string

from apps.core import realtime

from .selectors import operations_visible


@realtime.register_renderer("operation")
def render_operation(user, event):
    op = operations_visible(user).filter(pk=event["id"]).first()
    if op is None:
        return ""
    return render_to_string("operations/live_op.html", {"op": op, "new": bool(event.get("new"))})
