"""A host's graph series: CPU % and memory used, from the counters of two ticks.

The monitor's recorder (apps/compute/stats/recorder.py) reads the counters (virt/stats.py) and
writes these series in the same pipeline as the host's VMs; the host page reads them here.
"""

import math

from apps.core.series.encoding import Field, GiB, KiB, Layout

LAYOUT = Layout(Field("cpu"), Field("memory", GiB))
KIND = "host"


def values(before, after):
    """[CPU % busy, memory used in bytes] between two HostCounters (CPU NaN without times)."""
    cpu = math.nan
    if before is not None and before.total_ns is not None and after.total_ns is not None:
        total = after.total_ns - before.total_ns
        busy = after.busy_ns - before.busy_ns
        if total > 0 and busy >= 0:
            cpu = min(100.0 * busy / total, 100.0)
    memory = after.memory_used_kib * KiB if after.memory_used_kib is not None else math.nan
    return [cpu, memory]
