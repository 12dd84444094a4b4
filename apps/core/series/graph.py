"""A graph's data: the records of one ring in a time range, as the columns uPlot draws (times, then
one list per field, and for downsampled ranges the minima and maxima), in compact JSON: each
field in its stored unit with three significant digits, and the factor to its unit beside.

`since` gives only what is newer than the graph already has: an open graph appends the points of
each tick without reading its whole range again.
"""

import time
from itertools import pairwise

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


def _column(values):
    # Three significant digits of the stored unit are what a graph shows (half floats keep a
    # little more); NaN, which no number's text contains, becomes JSON's null.
    return "[" + ",".join(map(_FORMAT, values)).replace("nan", "null") + "]"


_FORMAT = "{:.3g}".format


def _spacing(times, step):
    """The usual time between points: the median gap, since the monitor's tick may be longer
    than configured (a busy monitor, `manage.py monitor --tick`); the step when there are few."""
    gaps = sorted(b - a for a, b in pairwise(times))
    return max(gaps[len(gaps) // 2], step) if len(gaps) >= 3 else step


def _with_gaps(rows, step, width):
    """Rows (time first) in time order, with a row of NaN in each hole, so the line breaks there."""
    step = _spacing([row[0] for row in rows], step)
    hole = (float("nan"),) * width
    out, last = [], None
    for row in rows:
        if last is not None and row[0] - last > GAP_STEPS * step:
            out.append((last + step, *hole))
        out.append(row)
        last = row[0]
    return out


def _rows(layout, blob, resolution, first, since):
    """(time, value, …) of each record after `first`, in time order; the values stay in stored
    units. A downsampled period is kept if it ends after `first` on a whole read."""
    if resolution.downsampled:
        reach = 0 if since is not None else resolution.step
        return sorted(rec for rec in layout.bucket.iter_unpack(blob) if rec[0] and rec[0] + reach > first)
    rows = []
    for seconds, millis, *values in layout.point.iter_unpack(blob):
        ts = seconds + millis / 1000
        if seconds and ts > first:
            rows.append((ts, *values))
    rows.sort()
    return rows


def data(layout, kind, ident, range_name, *, since=None, now=None, r=None):
    """The JSON text of one object's graph over a range (see the module's docstring). Values are
    in each field's stored unit (MiB/s, GiB…): `scale` says what to multiply each field by."""
    now = now or time.time()
    seconds, _ = RANGES[range_name]
    resolution = resolution_for(range_name)
    first = now - seconds if since is None else max(since, now - seconds)
    [blob] = store.read_rings([store.key(kind, ident, resolution)], r)
    n = len(layout.fields)
    groups = ("values", "min", "max") if resolution.downsampled else ("values",)
    rows = _rows(layout, blob, resolution, first, since)
    if since is None:
        rows = _with_gaps(rows, resolution.step, n * len(groups))
    columns = list(zip(*rows, strict=True)) or [()] * (1 + n * len(groups))
    scale = ",".join(f'"{name}":{factor:g}' for name, factor in zip(layout.names, layout.scales, strict=True))
    parts = [
        f'"range":"{range_name}","step":{resolution.step:g},"downsampled":{"true" if resolution.downsampled else "false"}',
        f'"scale":{{{scale}}}',
        f'"t":[{",".join(f"{ts:.3f}" if ts % 1 else f"{ts:.0f}" for ts in columns[0])}]',
    ]
    for g, group in enumerate(groups):
        fields = ",".join(f'"{name}":{_column(columns[1 + g * n + i])}' for i, name in enumerate(layout.names))
        parts.append(f'"{group}":{{{fields}}}')
    return "{" + ",".join(parts) + "}"
