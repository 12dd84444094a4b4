"""What one live VM event costs per subscriber, by the number of grants they hold. Prints JSON.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_live_bench \\
        .venv/bin/python bench/live_event_queries.py [--grants 1,10,50,200] [--rounds 50]

The database (PostgreSQL only) is created and migrated if needed and given inventory rows only (a
host whose URI is never connected, VMs, users with grants): rendering an event reads no libvirt.
It refuses a database holding hosts that are not its own.

For each user the bench renders a VM state event as the socket consumer does
(core.realtime.render_event: the row, the summary and the tab signal, with the power buttons the
user may press) and reports the queries and the median time. `without_memo_queries` renders the
same event outside a unit of work, each rights question reading what the user holds again: the
cost before rights were read once per event (then two queries a question, nine in all).

Measured here (2 cores, PostgreSQL 15, 50 rounds): 2 queries per subscriber per event — the VM
row and what the user holds — for 1, 10, 50 and 200 grants alike, in 2.4, 3.6, 3.5 and 5.6 ms;
5 without the memo; 9 before. tests/core/test_live_query_cost.py holds the 2.
"""

import argparse
import json
import statistics
import sys
import time
import uuid

import pagebench  # noqa: E402 - sets up the path and settings module first

HOST = "bench-live"


def fill(max_grants):
    from apps.compute.models import VirtualMachine
    from apps.hosts.models import Host

    if Host.objects.exclude(name=HOST).exists():
        sys.exit("refusing: this database holds hosts that are not bench data")
    host = Host.objects.filter(name=HOST).first() or Host.objects.create(
        name=HOST, uri="test+unix:///default?socket=/nonexistent/bench-live"
    )
    have = VirtualMachine.objects.filter(host=host).count()
    VirtualMachine.objects.bulk_create(
        [
            VirtualMachine(host=host, uuid=uuid.uuid4(), name=f"vm-{i:04d}", state="running", vcpus=1)
            for i in range(have, max_grants + 1)
        ]
    )
    return host, list(VirtualMachine.objects.filter(host=host).order_by("name"))


def subscriber(host, vms, grants):
    """A user with a Viewer grant on the host and VM-user grants on `grants - 1` VMs."""
    from django.contrib.auth import get_user_model

    from apps.accounts.services import grant_add

    users = get_user_model().objects
    name = f"bench-live-{grants}"
    user = users.filter(username=name).first()
    if user is None:
        user = users.create_user(username=name, password=None)
        grant_add(actor=None, user=user, role="Viewer", scope=host)
        for vm in vms[: grants - 1]:
            grant_add(actor=None, user=user, role="VM user", scope=vm)
    return user


def measure(render, rounds):
    from django.db import connection, reset_queries

    timings = []
    for i in range(rounds + 1):
        reset_queries()
        started = time.perf_counter()
        html = render()
        elapsed = time.perf_counter() - started
        if i:  # the first render warms template caches and is not counted
            timings.append(elapsed * 1000)
    assert html, "the subscriber received nothing"
    return len(connection.queries), round(statistics.median(timings), 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grants", default="1,10,50,200")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.grants.split(",") if n.strip()})
    if not counts or counts[0] < 1:
        sys.exit("--grants: numbers of at least 1")
    settings = pagebench.setup()
    from apps.compute.live import render_vm
    from apps.core import realtime

    host, vms = fill(counts[-1])
    watched = vms[-1]  # granted through the host only: every rights question is asked
    event = {"type": "live.event", "kind": "vm", "id": watched.pk, "change": "state"}
    result = {"database": settings.DATABASES["default"]["NAME"], "rounds": args.rounds, "subscribers": []}
    for grants in counts:
        user = subscriber(host, vms, grants)
        queries, ms = measure(lambda user=user: realtime.render_event(user, event), args.rounds)
        unmemoized, _ = measure(lambda user=user: render_vm(user, event), 1)
        result["subscribers"].append(
            {"grants": grants, "queries": queries, "median_ms": ms, "without_memo_queries": unmemoized}
        )
    result["constant"] = len({s["queries"] for s in result["subscribers"]}) == 1
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
