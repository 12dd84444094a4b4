"""What a VM's graphs show, from the counters of two ticks (apps/compute/virt/stats.py).

CPU is the QEMU process's CPU time over the wall time between the ticks: as a share of the VM's
vCPUs (100 % is every vCPU busy) and of the whole host. Disk and network figures are rates summed
over the VM's disks and NICs. A counter that went backwards (the VM restarted, a disk was
unplugged) gives no value for that tick rather than a negative rate.
"""

import math
from operator import attrgetter

from apps.core.series.encoding import Field, GiB, KiB, Layout, MiB

LAYOUT = Layout(
    Field("cpu"),  # % of its vCPUs
    Field("cpu_host"),  # % of the host's CPUs
    Field("memory", GiB),  # bytes used
    Field("disk_read", MiB),  # bytes/s
    Field("disk_write", MiB),
    Field("disk_read_iops", 1000),  # requests/s
    Field("disk_write_iops", 1000),
    Field("net_rx", MiB),  # bytes/s
    Field("net_tx", MiB),
    Field("net_rx_pps", 1000),  # packets/s
    Field("net_tx_pps", 1000),
)
INDEX = {name: i for i, name in enumerate(LAYOUT.names)}
KIND = "vm"
NAN = math.nan

# The counters behind the rates, in LAYOUT's order, read at once.
_counts = attrgetter("rd_bytes", "wr_bytes", "rd_reqs", "wr_reqs", "rx_bytes", "tx_bytes", "rx_pkts", "tx_pkts")


def ident(host_id, uuid):
    """A VM's series are named by host and UUID: what the monitor knows without the database."""
    return f"{host_id}:{uuid}"


def values(before, after, seconds, host_cpus):
    """The LAYOUT's values between two DomainCounters `seconds` apart."""
    cpu = cpu_host = NAN
    if before.cpu_ns is not None and after.cpu_ns is not None and after.cpu_ns >= before.cpu_ns:
        cores = (after.cpu_ns - before.cpu_ns) / seconds / 1e9
        cpu = min(100.0 * cores / after.vcpus, 100.0) if after.vcpus else NAN
        cpu_host = min(100.0 * cores / host_cpus, 100.0) if host_cpus else NAN
    memory = after.memory_used_kib * KiB if after.memory_used_kib is not None else NAN
    rates = [
        (a - b) / seconds if a is not None and b is not None and a >= b else NAN
        for b, a in zip(_counts(before), _counts(after), strict=True)
    ]
    return [cpu, cpu_host, memory, *rates]
