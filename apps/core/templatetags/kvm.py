from django import template

register = template.Library()

STATE_BADGES = {
    "running": "success",
    "up": "success",
    "succeeded": "success",
    "paused": "warning",
    "pmsuspended": "warning",
    "queued": "secondary",
    "running_op": "info",
    "shutdown": "info",
    "blocked": "info",
    "crashed": "danger",
    "down": "danger",
    "failed": "danger",
    "denied": "danger",
    "shutoff": "secondary",
}


@register.filter
def kib(value):
    """KiB as a short human size: 65536 -> 64 MiB, 8388608 -> 8 GiB."""
    if value in (None, ""):
        return "—"
    value = float(value) * 1024
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


@register.filter
def badge(state):
    return STATE_BADGES.get(str(state), "secondary")


@register.filter(name="bytes")
def human_bytes(value):
    """Bytes as a short human size: 10737418240 -> 10 GiB."""
    if value in (None, ""):
        return "—"
    return kib(int(value) / 1024)
