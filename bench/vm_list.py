"""How fast is the VM list with many VMs? Prints JSON timings.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_vm_bench \\
        .venv/bin/python bench/vm_list.py [--vms 10000] [--hosts 20]

The database (PostgreSQL only) is created and migrated if needed and filled with inventory rows
(hosts with unreachable URIs, VMs in mixed states) — the list reads only the inventory, so no
libvirt is needed. It refuses a database holding hosts that are not its own.

Each page is fetched through Django's test client as a signed-in user (session, authorization,
filter, sort, page, template), a few times; the median is reported with the number of queries.
"""

import argparse
import json
import statistics
import sys
import time
import uuid

import pagebench  # noqa: E402 - sets up the path and settings module first

STATES = ["running", "running", "shutoff", "shutoff", "shutoff", "paused", "crashed"]


def fill(n_vms, n_hosts):
    from apps.compute.models import VirtualMachine
    from apps.hosts.models import Host

    if Host.objects.exclude(name__startswith="bench-hv").exists():
        sys.exit("refusing: this database holds hosts that are not bench data")
    started = time.perf_counter()
    hosts = list(Host.objects.filter(name__startswith="bench-hv").order_by("pk"))
    for i in range(len(hosts), n_hosts):
        # A socket that does not exist: nothing ever connects to these.
        hosts.append(Host.objects.create(name=f"bench-hv{i:02d}", uri=f"test+unix:///default?socket=/nonexistent/{i}"))
    have = VirtualMachine.objects.count()
    VirtualMachine.objects.bulk_create(
        [
            VirtualMachine(
                host=hosts[i % n_hosts],
                uuid=uuid.uuid4(),
                name=f"{['web', 'db', 'cache', 'build', 'ci'][i % 5]}-{i:05d}",
                state=STATES[i % len(STATES)],
                vcpus=1 + i % 8,
                memory_kib=(512 << (i % 5)) * 1024,
                max_memory_kib=(512 << (i % 5)) * 1024,
            )
            for i in range(have, n_vms)
        ],
        batch_size=2000,
    )
    return {"vms_inserted": max(n_vms - have, 0), "insert_seconds": round(time.perf_counter() - started, 2)}, hosts


def measure(client, params, repeat=5):
    from django.db import connection, reset_queries

    timings = []
    for i in range(repeat + 1):
        reset_queries()
        started = time.perf_counter()
        response = client.get("/vms/", params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if i:  # the first fetch warms caches and is not counted
            timings.append(elapsed * 1000)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries": len(connection.queries),
        "rows": len(response.context["vms"]),
        "matching": response.context["page"].paginator.count,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    args = parser.parse_args()
    settings = pagebench.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.services import grant_add

    result = {"database": settings.DATABASES["default"]["NAME"]}
    filled, hosts = fill(args.vms, args.hosts)
    result.update(filled)

    users = get_user_model().objects
    admin = users.filter(username="bench-admin").first() or users.create_superuser(
        username="bench-admin", password=None
    )
    scoped = users.filter(username="bench-operator").first()
    if scoped is None:  # an operator on two hosts of the twenty
        scoped = users.create_user(username="bench-operator", password=None)
        for host in hosts[:2]:
            grant_add(actor=None, user=scoped, role="Operator", scope=host)
    pages = {
        "first_page": {},
        "name_filter": {"q": "db-0"},
        "state_filter": {"state": "running"},
        "one_host": {"host": hosts[1].pk},
        "sorted_by_memory_desc": {"sort": "-memory"},
        "deep_page": {"page": 150},
        "big_page": {"per_page": 200},
    }
    result["total_vms"] = args.vms
    result["pages"] = {}
    for who, user in (("admin", admin), ("operator_on_2_hosts", scoped)):
        client = Client()
        client.force_login(user)
        for name, params in pages.items():
            result["pages"][f"{who}:{name}"] = {"params": params, **measure(client, params)}
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
