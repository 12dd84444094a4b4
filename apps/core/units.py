"""Sizes as people read them, in binary units, for templates and messages alike."""


def human_kib(value):
    """KiB as a short human size: 65536 -> 64 MiB, 8388608 -> 8 GiB."""
    if value in (None, ""):
        return "—"
    value = float(value) * 1024
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def human_bytes(value):
    """Bytes as a short human size: 10737418240 -> 10 GiB."""
    if value in (None, ""):
        return "—"
    return human_kib(int(value) / 1024)
