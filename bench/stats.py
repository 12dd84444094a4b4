"""What the graphs cost the monitor, Redis and a graph's reader. Prints JSON.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_stats_bench \\
    KVMWEB_REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/stats.py [--domains 1000] [--fleet 10000] [--hosts 20] [--minutes 16]

The database (PostgreSQL only) is created and migrated if needed; it refuses one holding hosts that
are not its own. Redis gets the series of made-up host ids (from 10⁹ up), which the bench deletes
when it ends; give it a database of its own all the same.

1. `tick_1000`: one monitor tick of a host with --domains running domains, on the libvirt test
   driver loaded from a node XML file (`test:///path`, in this process): compute's tick handler
   (the bulk call, the graphs, the inventory), against one raw getAllDomainStats call with the
   groups asked for now and before the graphs (state, vCPU, balloon). Medians of 15 ticks. The
   test driver answers the vCPU and memory figures only through virDomainGetInfo, so the listing
   makes one such call per domain there (none on QEMU): the ratio to the raw call is the test
   driver's worst case.
2. `fleet`: --fleet running VMs over --hosts hosts, --minutes of 2-second ticks in made-up time
   (so minute and quarter-hour records are written too): the CPU the monitor spends on the
   series per tick (computing, packing, the pipeline, the live signal) and Redis's own CPU,
   with no libvirt (the counters are made up, as the bulk call would bring them).
3. `space`: what those rings hold in Redis for the fleet, measured (INFO used_memory and MEMORY
   USAGE of each kind of ring) and as the fixed sizes say.
4. `graph_24h`: one VM's full day at minute resolution (1440 records with min and max) read and
   answered as JSON, by the series code and through the data view (session, rights, VM row).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid as uuidlib

import pagebench  # noqa: E402 - sets up the path and settings module first

HOST = "bench-stats"
FIRST_ID = 10**9


def _median_ms(fn, rounds):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def node_xml(path, count):
    from lxml import etree

    from apps.compute.virt.xml import Disk, Domain, Interface

    node = etree.Element("node")
    for i in range(count):
        spec = Domain(
            name=f"bench-{i:05d}",
            memory_mib=512,
            vcpus=2,
            domain_type="test",
            uuid=str(uuidlib.UUID(int=i + 1)),
            disks=[Disk(source=f"/var/lib/libvirt/images/bench-{i:05d}.qcow2")],
            interfaces=[
                Interface(network="default", mac=f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}")
            ],
        )
        node.append(spec.to_element())
    path.write_bytes(etree.tostring(node))
    return f"test://{path}"


def tick_1000(count, rounds=15):
    from apps.compute import handlers
    from apps.compute.services.inventory import vm_inventory_sync
    from apps.compute.stats import recorder
    from apps.compute.virt import domains
    from apps.compute.virt.stats import INVENTORY, WANTED
    from apps.core.series import store
    from apps.hosts.models import Host
    from apps.hosts.virt import connection

    with tempfile.TemporaryDirectory() as tmp:
        from pathlib import Path

        uri = node_xml(Path(tmp) / "node.xml", count)
        conn = connection.open_connection(uri)
        host, _ = Host.objects.update_or_create(name=HOST, defaults={"uri": uri})
        host.vms.all().delete()
        handlers.first_sync(host, conn)
        handlers.sync_all(host, conn)  # the first tick has no differences to take: not counted
        infos = domains.list_domains(conn)
        result = {
            "domains": len(infos),
            "raw_bulk_call_ms": _median_ms(lambda: conn.getAllDomainStats(WANTED), rounds),
            "raw_bulk_call_before_ms": _median_ms(lambda: conn.getAllDomainStats(INVENTORY), rounds),
            "listing_ms": _median_ms(lambda: domains.list_domains(conn), rounds),
            "graphs_ms": _median_ms(lambda: recorder.record(host, conn, infos), rounds),
            "inventory_ms": _median_ms(
                lambda: vm_inventory_sync(host=host, infos=infos, detected=True, started=lambda name: None), rounds
            ),
            "tick_ms": _median_ms(lambda: handlers.sync_all(host, conn), rounds),
        }
        result["tick_over_raw_call"] = round(result["tick_ms"] / result["raw_bulk_call_ms"], 1)
        result["graphs_share_of_tick"] = round(result["graphs_ms"] / result["tick_ms"], 3)
        recorder.forget(host.pk)
        cleanup_host(store.client(), host.pk)
        host.vms.all().delete()
        host.delete()
        conn.close()
    return result


def _counters(rng, vm, t):
    """Made-up counters of VM `vm` at time t: steady rates with some noise."""
    from apps.compute.virt.stats import DomainCounters

    share = 0.05 + (vm % 10) / 10
    cpu = int(t * share * 1e9)
    disk = int(t * (vm % 7) * 100_000)
    net = int(t * (vm % 5) * 50_000)
    return DomainCounters(
        2, cpu + rng.randrange(1000), 1 << 20, disk, disk // 2, disk >> 12, disk >> 13, net, net, net // 800, net // 900
    )


def fleet(total, hosts, minutes, r):
    import random

    from apps.compute.stats import recorder
    from apps.compute.virt.domains import DomainInfo
    from apps.hosts.virt.stats import HostCounters

    rng = random.Random(1)
    per_host = total // hosts
    fake_hosts = [type("H", (), {"pk": FIRST_ID + h, "name": f"bench-{h}"})() for h in range(hosts)]
    uuids = [[str(uuidlib.UUID(int=(h << 32) + i + 1)) for i in range(per_host)] for h in range(hosts)]
    start = (time.time() // 900) * 900 - 30  # just before a quarter hour, then through it
    ticks = int(minutes * 60 / 2)
    cpu_before = _redis_cpu(r)
    per_tick, made = [], 0.0
    for n in range(ticks + 1):
        t = start + 2 * n
        listings = [
            [DomainInfo(u, u, "running", 2, 1 << 20, 1 << 20, counters=_counters(rng, i, t)) for i, u in enumerate(ids)]
            for ids in uuids
        ]  # what the bulk calls would have brought: made before the clock starts
        counters = HostCounters(64, 512 << 20, int(t * 32e9), int(t * 64e9), 256 << 20)
        tick_cpu = time.process_time()
        for host, infos in zip(fake_hosts, listings, strict=True):
            recorder._record(host, counters, infos, t)
        spent = (time.process_time() - tick_cpu) * 1000
        made += spent
        if n >= 2:  # the first two create the rings
            per_tick.append(spent)
    time.sleep(1)  # the last live signals leave
    redis_cpu = _redis_cpu(r) - cpu_before
    for host in fake_hosts:
        recorder.forget(host.pk)
    return {
        "vms": per_host * hosts,
        "hosts": hosts,
        "ticks": ticks + 1,
        "monitor_cpu_ms_per_tick_median": round(statistics.median(per_tick), 1),
        "monitor_cpu_ms_per_tick_p95": round(sorted(per_tick)[int(len(per_tick) * 0.95)], 1),
        "monitor_cpu_ms_per_tick_max": round(max(per_tick), 1),
        "monitor_cpu_ms_per_tick_mean_all": round(made / (ticks + 1), 1),
        "redis_cpu_ms_per_tick_mean": round(redis_cpu / (ticks + 1) * 1000, 1),
        "note": (
            "the first two ticks create the rings (zeroed strings of their full size) and are not counted; each host"
            " closes its minutes (and quarters) at its own tick (recorder.offset), so no tick closes them all"
        ),
    }, uuids


def _redis_cpu(r):
    info = r.info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def space(r, uuids, used_before):
    from apps.compute.stats import metrics
    from apps.core.series import store
    from apps.hosts import stats as host_stats

    used = r.info("memory")["used_memory"] - used_before
    vms = sum(len(u) for u in uuids)
    sample = metrics.ident(FIRST_ID, uuids[0][0])
    tick = store.tick_resolution()
    kinds = {}
    for resolution, size in (
        (tick, metrics.LAYOUT.point.size),
        (store.MINUTES, metrics.LAYOUT.bucket.size),
        (store.QUARTERS, metrics.LAYOUT.bucket.size),
    ):
        ring = store.key(metrics.KIND, sample, resolution)
        kinds[resolution.name] = {
            "keeps": f"{resolution.keep // 3600} h at {resolution.step:g} s",
            "record_bytes": size,
            "slots": resolution.slots,
            "ring_bytes": resolution.slots * size,
            "memory_usage_bytes": r.memory_usage(ring, samples=0),
        }
    per_vm = sum(k["memory_usage_bytes"] for k in kinds.values())
    host_rings = sum(
        r.memory_usage(store.key(host_stats.KIND, FIRST_ID, res), samples=0) or 0
        for res in (tick, store.MINUTES, store.QUARTERS)
    )
    return {
        "vms": vms,
        "per_vm_rings": kinds,
        "per_vm_bytes": per_vm,
        "per_host_bytes": host_rings,
        "fleet_bytes_by_memory_usage": per_vm * vms + host_rings * len(uuids),
        "fleet_used_memory_delta_bytes": used,
        "fleet_used_memory_delta_gib": round(used / 2**30, 2),
    }


def graph_24h(r):
    import math
    import random

    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.compute.models import VirtualMachine
    from apps.compute.stats import metrics
    from apps.core.series import graph, store
    from apps.hosts.models import Host

    host, _ = Host.objects.update_or_create(name=HOST + "-graph", defaults={"uri": "test:///nonexistent"})
    vm, _ = VirtualMachine.objects.get_or_create(host=host, uuid=uuidlib.UUID(int=7), defaults={"name": "bench-graph"})
    ring = store.key(metrics.KIND, metrics.ident(host.pk, vm.uuid), store.MINUTES)
    layout, rng = metrics.LAYOUT, random.Random(2)
    r.delete(ring)
    r.set(ring, bytes(store.MINUTES.slots * layout.bucket.size), ex=3600)
    now = time.time()
    pipe = r.pipeline(transaction=False)
    walk = [30.0] * 9
    for i in range(1440):
        start = (now // 60 - 1440 + i) * 60
        walk = [max(0.0, w + rng.gauss(0, w / 20 + 0.5)) for w in walk]  # a day's usage: drifting, noisy
        avg = [min(walk[0], 100.0), min(walk[0], 100.0) / 8, 2 * 2**30, *(w * 2**16 for w in walk[1:9])]
        lo, hi = [v * 0.5 for v in avg], [v * 1.5 if i else math.nan for v in avg]
        record = layout.pack_bucket(start, avg, lo, hi)
        pipe.setrange(ring, store.slot_of(store.MINUTES, start) * len(record), record)
    pipe.execute()
    text = graph.data(layout, metrics.KIND, metrics.ident(host.pk, vm.uuid), "24h")
    admin = get_user_model().objects.filter(
        username="bench-admin"
    ).first() or get_user_model().objects.create_superuser(username="bench-admin", password=None)
    client = Client()
    client.force_login(admin)
    url = f"/vms/{vm.pk}/graphs/data"
    response = client.get(url, {"range": "24h"})
    assert response.status_code == 200, response.status_code
    result = {
        "points": len(json.loads(text)["t"]),
        "fields": len(layout.fields),
        "json_bytes": len(text),
        "series_code_ms": _median_ms(
            lambda: graph.data(layout, metrics.KIND, metrics.ident(host.pk, vm.uuid), "24h"), 20
        ),
        "view_ms": _median_ms(lambda: client.get(url, {"range": "24h"}), 20),
        "gzipped_bytes": len(client.get(url, {"range": "24h"}, HTTP_ACCEPT_ENCODING="gzip").content),
        "gzipped_view_ms": _median_ms(lambda: client.get(url, {"range": "24h"}, HTTP_ACCEPT_ENCODING="gzip"), 20),
        "redis_read_bytes": store.MINUTES.slots * layout.bucket.size,
    }
    r.delete(ring)
    vm.delete()
    host.delete()
    return result


def cleanup(r, pattern=None):
    """Delete the bench's series: those of the made-up hosts, or those matching `pattern`."""
    from apps.core.series import store

    keys = list(r.scan_iter(pattern or f"{store.PREFIX}*:{str(FIRST_ID)[:-3]}*", count=10_000))
    for i in range(0, len(keys), 1000):
        r.unlink(*keys[i : i + 1000])


def cleanup_host(r, host_id):
    from apps.core.series import store

    for pattern in (
        f"{store.PREFIX}vm:{host_id}:*",
        f"{store.PREFIX}host:{host_id}:*",
        f"{store.PREFIX}busy:{host_id}",
    ):
        cleanup(r, pattern)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--fleet", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=16)
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: tick,fleet,graph")
    args = parser.parse_args()
    settings = pagebench.setup()
    settings.DEBUG = False  # no query log growing through thousands of ticks
    from apps.core.series import store
    from apps.hosts.models import Host

    if Host.objects.exclude(name__startswith=HOST).exists():
        raise SystemExit("refusing: this database holds hosts that are not bench data")
    r = store.client()
    skip = set(filter(None, args.skip.split(",")))
    result = {"database": settings.DATABASES["default"]["NAME"], "redis": settings.REDIS_URL, "cpus": os.cpu_count()}
    result["tick"] = settings.KVMWEB_MONITOR_TICK
    cleanup(r)
    try:
        if "tick" not in skip:
            result["tick_1000"] = tick_1000(args.domains)
        if "fleet" not in skip:
            used_before = r.info("memory")["used_memory"]
            result["fleet"], uuids = fleet(args.fleet, args.hosts, args.minutes, r)
            result["space"] = space(r, uuids, used_before)
        if "graph" not in skip:
            result["graph_24h"] = graph_24h(r)
    finally:
        cleanup(r)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
