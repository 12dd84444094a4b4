"""What the pages read of the series: one VM's graph, and the CPU sparklines of a page of VMs."""

import time

from apps.core.series import graph, store

from . import metrics

SPARK_MINUTES = 30
_CPU = metrics.INDEX["cpu"]


def vm_graph(vm, range_name, *, since=None):
    """JSON text of the VM's graph (apps/core/series/graph.py)."""
    return graph.data(metrics.LAYOUT, metrics.KIND, metrics.ident(vm.host_id, vm.uuid), range_name, since=since)


def sparklines(vms, *, now=None, r=None):
    """{vm.pk: [CPU % of its vCPUs per minute, oldest first, None where it did not run]} over the
    last half hour, for any number of VMs in one Redis round trip (a few bytes per VM and minute)."""
    now = now or time.time()
    since = now - SPARK_MINUTES * store.MINUTE
    rings = [store.key(metrics.KIND, metrics.ident(vm.host_id, vm.uuid), store.MINUTES) for vm in vms]
    size = metrics.LAYOUT.bucket.size
    blobs = store.read_recent(rings, store.MINUTES, size, since, now, r)
    first = int(since // store.MINUTE)
    out = {}
    for vm, blob in zip(vms, blobs, strict=True):
        # By the minute's number: a host's minutes begin a few seconds past the clock's (recorder.offset).
        by_minute = {
            start // store.MINUTE: averages[_CPU]
            for start, averages, _lo, _hi in metrics.LAYOUT.buckets(blob)
            if start // store.MINUTE >= first
        }
        if by_minute:
            line = [by_minute.get(first + i) for i in range(SPARK_MINUTES + 1)]
            out[vm.pk] = [None if v is None or v != v else round(v, 1) for v in line]
    return out
