from django import template

from apps.core import units

register = template.Library()

STATE_BADGES = {
    "running": "success",
    "up": "success",
    "succeeded": "success",
    "paused": "warning",
    "pmsuspended": "warning",
    "queued": "secondary",
    "cancelled": "warning",
    "running_op": "info",
    "shutdown": "info",
    "blocked": "info",
    "crashed": "danger",
    "down": "danger",
    "failed": "danger",
    "denied": "danger",
    "shutoff": "secondary",
}


register.filter(name="kib")(units.human_kib)
register.filter(name="bytes")(units.human_bytes)


@register.filter
def badge(state):
    return STATE_BADGES.get(str(state), "secondary")
