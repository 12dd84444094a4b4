"""A graph's data: the records of one ring in a time range, as the columns uPlot draws (times, then
one list per field, and for downsampled ranges the minima and maxima), in compact JSON.

`since` gives only what is newer than the graph already has: an open graph appends the points of
each tick without reading its whole range again.
"""

import time

from django.utils.translation import gettext_lazy as _

from . import store

# Range name -> (seconds shown, resolution name).
RANGES = {"15m": (15 * 60, "tick"), "1h": (3600, "tick"), "24h": (86400, "1m"), "7d": (7 * 86400, "15m")}
DEFAULT_RANGE = "1h"
# The range buttons, in order.
RANGE_CHOICES = [("15m", _("15 min")), ("1h", _("1 h")), ("24h", _("24 h")), ("7d", _("7 d"))]
# A hole in a series wider than this many steps is drawn as a gap (the VM was off, the monitor down).
GAP_STEPS = 2.5


def resolution_for(range_name):
    _seconds, name = RANGES[range_name]
    return {"tick": store.tick_resolution(), "1m": store.MINUTES, "15m": store.QUARTERS}[name]


def _num(v):
    # Half floats carry about four significant digits; more would only lengthen the answer.
    return "null" if v != v else f"{v:.4g}"


def _column(values):
    return "[" + ",".join(map(_num, values)) + "]"


def _with_gaps(rows, step):
    """Rows in time order, with an empty row (all None) in each hole, so the line breaks there."""
    out, last = [], None
    for row in rows:
        if last is not None and row[0] - last > GAP_STEPS * step:
            out.append((last + step, None))
        out.append(row)
        last = row[0]
    return out


def data(layout, kind, ident, range_name, *, since=None, now=None, r=None):
    """The JSON text of one object's graph over a range (see the module's docstring)."""
    now = now or time.time()
    seconds, _ = RANGES[range_name]
    resolution = resolution_for(range_name)
    first = now - seconds if since is None else max(since, now - seconds)
    [blob] = store.read_rings([store.key(kind, ident, resolution)], r)
    n = len(layout.fields)
    if resolution.downsampled:
        rows = sorted(
            (start, (avg, lo, hi))
            for start, avg, lo, hi in layout.buckets(blob)
            if start > first or (since is None and start + resolution.step > first)
        )
    else:
        rows = sorted((ts, (values,)) for ts, values in layout.points(blob) if ts > first)
    rows = _with_gaps(rows, resolution.step) if since is None else rows
    nothing = (float("nan"),) * n
    parts = [
        f'"range":"{range_name}","step":{resolution.step:g},"downsampled":{"true" if resolution.downsampled else "false"}',
        f'"t":[{",".join(f"{ts:.3f}" if ts % 1 else f"{ts:.0f}" for ts, _ in rows)}]',
    ]
    for group, index in (("values", 0), ("min", 1), ("max", 2)) if resolution.downsampled else (("values", 0),):
        columns = [[] for _ in range(n)]
        for _ts, record in rows:
            values = record[index] if record is not None else nothing
            for column, v in zip(columns, values, strict=True):
                column.append(v)
        fields = ",".join(f'"{name}":{_column(col)}' for name, col in zip(layout.names, columns, strict=True))
        parts.append(f'"{group}":{{{fields}}}')
    return "{" + ",".join(parts) + "}"
