"""The busiest VMs of the fleet over the last quarter hour, by CPU, disk and network.

Each minute the recorder writes, per host, one hash of every VM that ran in the last 15 minutes
with its averages over them (packed like a graph's values). The fleet page reads the hashes of the
hosts the user sees VMs on, ranks them, and keeps the first VMs the user may see: the ranking
costs a Redis read per host and a query per page of candidates, whatever the fleet's size.
"""

from dataclasses import dataclass

from apps.core.series import store

from .metrics import LAYOUT

KEEP = 20 * store.MINUTE  # a host whose monitor stopped writing drops out of the ranking
# Ranking -> (the fields added up for it, its label).
RANKINGS = {
    "cpu": (("cpu",), "CPU"),
    "disk": (("disk_read", "disk_write"), "Disk"),
    "network": (("net_rx", "net_tx"), "Network"),
}


def key(host_id):
    return f"{store.PREFIX}busy:{host_id}"


def write(batch, host_id, averages):
    """Replace the host's hash with these VMs' averages (ident -> stored values in LAYOUT's order)."""
    ring_key = key(host_id)
    if not averages:
        batch.command("delete", ring_key)
        return
    fields = {ident.split(":", 1)[1]: LAYOUT.pack_stored(values) for ident, values in averages.items()}
    # Written aside and renamed into place, so a reader never sees the hash half made.
    temp = ring_key + ":new"
    batch.command("delete", temp)
    batch.command("hset", temp, mapping=fields)
    batch.command("rename", temp, ring_key)
    batch.command("expire", ring_key, KEEP)


@dataclass
class Usage:
    host_id: int
    uuid: str
    values: dict  # field -> average over the quarter hour, in its unit

    def score(self, ranking):
        total = 0.0
        for name in RANKINGS[ranking][0]:
            total += self.values[name] or 0.0
        return total


def _values(blob):
    """The averages by field (None where there was no value), with the sums the page shows."""
    values = {k: (v if v == v else None) for k, v in LAYOUT.unpack_values(blob).items()}
    for total, parts in (
        ("disk_iops", ("disk_read_iops", "disk_write_iops")),
        ("net_pps", ("net_rx_pps", "net_tx_pps")),
    ):
        known = [values[p] for p in parts if values[p] is not None]
        values[total] = sum(known) if known else None
    return values


def read(host_ids, r=None):
    """Every VM's averages on these hosts, in one round trip."""
    pipe = (r or store.client()).pipeline(transaction=False)
    host_ids = list(host_ids)
    for host_id in host_ids:
        pipe.hgetall(key(host_id))
    usages = []
    for host_id, fields in zip(host_ids, pipe.execute(), strict=True):
        usages.extend(Usage(host_id, uuid.decode(), _values(blob)) for uuid, blob in fields.items())
    return usages


def top(usages, ranking, visible, count=10, chunk=100):
    """The first `count` usages by `ranking` whose VM `visible(pairs)` returns (a dict from
    (host_id, uuid) to the VM, for the pairs the user may see)."""
    # A VM that did nothing of the kind is not among the busiest at it.
    ranked = sorted((u for u in usages if u.score(ranking) > 0), key=lambda u: u.score(ranking), reverse=True)
    found = []
    for i in range(0, len(ranked), chunk):
        candidates = ranked[i : i + chunk]
        vms = visible([(u.host_id, u.uuid) for u in candidates])
        for usage in candidates:
            vm = vms.get((usage.host_id, usage.uuid))
            if vm is not None:
                found.append((vm, usage))
                if len(found) == count:
                    return found
    return found
