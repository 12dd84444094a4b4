"""A domain's usage counters, read from the record the monitor's one bulk call per tick already
returns (`domains.list_domains`): nothing here calls libvirt a second time.

The counters only ever grow while the domain runs (CPU time, bytes, requests, packets); the graphs
are made from their deltas between two ticks (apps/compute/stats/metrics.py).
"""

from dataclasses import dataclass

import libvirt

# The bulk call's groups: state, vCPUs and balloon for the inventory, CPU time, block and
# interface figures for the graphs — one call for all of them.
INVENTORY = libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VCPU | libvirt.VIR_DOMAIN_STATS_BALLOON
WANTED = (
    INVENTORY | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BLOCK | libvirt.VIR_DOMAIN_STATS_INTERFACE
)


@dataclass(frozen=True, slots=True)
class DomainCounters:
    """One active domain's counters at one moment. None: the driver does not report it (the test
    driver reports CPU time and memory only)."""

    vcpus: int
    cpu_ns: int | None  # host CPU time used by the whole QEMU process, in nanoseconds
    memory_used_kib: int | None  # what the guest uses (see memory_used), not what it was given
    rd_bytes: int | None = None  # summed over the domain's disks
    wr_bytes: int | None = None
    rd_reqs: int | None = None
    wr_reqs: int | None = None
    rx_bytes: int | None = None  # summed over the domain's NICs
    tx_bytes: int | None = None
    rx_pkts: int | None = None
    tx_pkts: int | None = None


def memory_used(stats, current_kib):
    """What the guest uses: its memory less what its balloon driver reports unused; without a
    guest driver, the QEMU process's resident memory (which counts what the guest ever touched);
    else what the domain was given."""
    if "balloon.unused" in stats:
        return max(stats.get("balloon.current", current_kib) - stats["balloon.unused"], 0)
    return stats.get("balloon.rss", current_kib)


def _sum(stats, group, fields):
    """Each field summed over the group's items (block.0.rd.bytes + block.1.rd.bytes …); None for
    every field when the record has no such group."""
    count = stats.get(f"{group}.count")
    if count is None:
        return (None,) * len(fields)
    totals = [0] * len(fields)
    for i in range(count):
        prefix = f"{group}.{i}."
        for n, field in enumerate(fields):
            totals[n] += stats.get(prefix + field, 0)
    return tuple(totals)


BLOCK_FIELDS = ("rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs")
NET_FIELDS = ("rx.bytes", "tx.bytes", "rx.pkts", "tx.pkts")


def counters_of(stats, *, vcpus, memory_kib, cpu_ns=None) -> DomainCounters:
    """The counters in one getAllDomainStats record. `cpu_ns` stands in where the record has no
    CPU time (drivers that answer virDomainGetInfo only)."""
    return DomainCounters(
        vcpus,
        stats.get("cpu.time", cpu_ns),
        memory_used(stats, memory_kib),
        *_sum(stats, "block", BLOCK_FIELDS),
        *_sum(stats, "net", NET_FIELDS),
    )
