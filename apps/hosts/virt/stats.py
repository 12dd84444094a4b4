"""A host's usage counters, read once per monitor tick: CPU times, memory, and the CPU count the
VMs' share of the host is measured against."""

from dataclasses import dataclass

import libvirt

from apps.core.errors import from_libvirt


@dataclass(frozen=True, slots=True)
class HostCounters:
    cpus: int
    memory_kib: int  # what the host has
    # All CPUs' times in nanoseconds since boot (None: the driver does not say, e.g. the test
    # driver's are fixed numbers); busy is everything but idle and I/O wait.
    busy_ns: int | None
    total_ns: int | None
    memory_used_kib: int | None  # less free, buffers and page cache; None where not reported


def _memory_used(conn):
    try:
        mem = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise
    if "total" not in mem or "free" not in mem:
        return None
    return max(mem["total"] - mem["free"] - mem.get("buffers", 0) - mem.get("cached", 0), 0)


def host_counters(conn) -> HostCounters:
    """Three calls: CPU times, memory figures, and getInfo for the CPU count and memory size."""
    try:
        _model, memory_mib, cpus, *_ = conn.getInfo()
        times = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
        used = _memory_used(conn)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    idle = times.get("idle", 0) + times.get("iowait", 0)
    total = sum(times.get(k, 0) for k in ("kernel", "user", "idle", "iowait"))
    known = "idle" in times and total > 0
    return HostCounters(
        cpus=cpus,
        memory_kib=memory_mib * 1024,
        busy_ns=total - idle if known else None,
        total_ns=total if known else None,
        memory_used_kib=used,
    )
