from django.template.loader import render_to_string

from apps.core import realtime

from .selectors import operations_visible


@realtime.register_renderer("operation")
def render_operation(user, event):
    """The operation's row in the panel and its line in a bulk result; a page shows either,
    both or neither, and drops what it has no place for."""
    op = operations_visible(user).filter(pk=event["id"]).first()
    if op is None:
        return ""
    context = {"op": op, "new": bool(event.get("new")), "viewer_id": user.pk}
    return render_to_string("operations/live_op.html", context)
