"""How fast are the network list and a host's wiring diagram with many networks and NICs? Prints
JSON timings.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_network_bench \\
        .venv/bin/python bench/network_wiring.py [--networks 50] [--nics 1000]

The database (PostgreSQL only) is created and migrated if needed, then filled with inventory rows
on throwaway hosts whose URIs are never connected: a small one (a tenth of the rows) and a large
one (--networks networks, --nics VMs with one NIC each, spread over the networks, plus host
interfaces). Both pages read only the inventory, so no libvirt is needed. It refuses a database
holding hosts that are not its own.

Each page is fetched through Django's test client as a signed-in user (session, authorization,
query, layout, template), a few times; the median is reported with the number of queries, for
both hosts: the count is the same for ten times the rows.
"""

import argparse
import json
import statistics
import sys
import time
import uuid

import pagebench  # noqa: E402 - sets up the path and settings module first

PREFIX = "bench-hv-net"
STATES = ["running", "running", "shutoff", "paused", "crashed"]
MODES = ["nat", "isolated", "route", "bridge"]


def fill(name, n_networks, n_nics):
    """A host with `n_networks` networks and `n_nics` VMs with a NIC each (rows only)."""
    from apps.compute.models import VirtualMachine
    from apps.hosts.models import Host
    from apps.network.models import HostInterface, Port, VirtualNetwork

    host = Host.objects.filter(name=name).first()
    if host is not None:
        return host, {"inserted": False}
    started = time.perf_counter()
    # A socket that does not exist: nothing ever connects to this host.
    host = Host.objects.create(name=name, uri=f"test+unix:///default?socket=/nonexistent/{name}")
    HostInterface.objects.bulk_create(
        [
            HostInterface(host=host, name="eth0", kind="ethernet", state="up", master="br0", speed_mbps=10000),
            HostInterface(host=host, name="eth1", kind="ethernet", state="up", master="bond0"),
            HostInterface(host=host, name="eth2", kind="ethernet", state="up", master="bond0"),
            HostInterface(host=host, name="bond0", kind="bond", state="up"),
            HostInterface(host=host, name="br0", kind="bridge", state="up"),
        ]
    )
    networks = VirtualNetwork.objects.bulk_create(
        [
            VirtualNetwork(
                host=host,
                uuid=uuid.uuid4(),
                name=f"net-{i:03d}",
                forward_mode=MODES[i % len(MODES)],
                bridge="br0" if MODES[i % len(MODES)] == "bridge" else f"virbr{i}",
                devices=["bond0"] if MODES[i % len(MODES)] == "route" else [],
                active=i % 5 != 0,
                addresses=[f"10.{i}.0.1/24"],
            )
            for i in range(n_networks)
        ]
    )
    vms = VirtualMachine.objects.bulk_create(
        [
            VirtualMachine(host=host, uuid=uuid.uuid4(), name=f"{name}-vm{i:05d}", state=STATES[i % len(STATES)])
            for i in range(n_nics)
        ],
        batch_size=2000,
    )
    Port.objects.bulk_create(
        [
            Port(
                vm=vm,
                host=host,
                mac=f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                kind="network",
                source=networks[i % n_networks].name,
                model="virtio",
                target=f"vnet{i}" if vm.state == "running" else "",
                link_up=i % 50 != 0,
            )
            for i, vm in enumerate(vms)
        ],
        batch_size=2000,
    )
    return host, {"inserted": True, "insert_seconds": round(time.perf_counter() - started, 2)}


def measure(client, url, params=None, repeat=7):
    from django.db import connection, reset_queries

    timings = []
    for i in range(repeat + 1):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url, params or {})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if i:  # the first fetch warms caches and is not counted
            timings.append(elapsed * 1000)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries": len(connection.queries),
        "bytes": len(response.content),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--nics", type=int, default=1000)
    args = parser.parse_args()
    settings = pagebench.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.services import grant_add
    from apps.hosts.models import Host

    if Host.objects.exclude(name__startswith=PREFIX).exists():
        sys.exit("refusing: this database holds hosts that are not bench data")
    sizes = {
        "small": (max(args.networks // 10, 1), max(args.nics // 10, 1)),
        "large": (args.networks, args.nics),
    }
    result = {"database": settings.DATABASES["default"]["NAME"], "hosts": {}}
    hosts = {}
    for label, (n_networks, n_nics) in sizes.items():
        name = f"{PREFIX}-{n_networks}x{n_nics}"
        hosts[label], filled = fill(name, n_networks, n_nics)
        result["hosts"][label] = {"name": name, "networks": n_networks, "nics": n_nics, **filled}

    users = get_user_model().objects
    admin = users.filter(username="bench-admin").first() or users.create_superuser(
        username="bench-admin", password=None
    )
    scoped = users.filter(username="bench-net-operator").first()
    if scoped is None:  # an operator on the bench hosts: rights checked per row, not "everything"
        scoped = users.create_user(username="bench-net-operator", password=None)
        for host in hosts.values():
            grant_add(actor=None, user=scoped, role="Operator", scope=host)
    result["pages"] = {}
    for who, user in (("admin", admin), ("operator", scoped)):
        client = Client()
        client.force_login(user)
        for label, host in hosts.items():
            first_vm = host.vms.order_by("pk").first()
            pages = {
                "network_list": ("/networks/", {"host": host.pk}),
                "wiring": (f"/networks/hosts/{host.pk}/wiring/", None),
                "wiring_focused_vm": (f"/networks/hosts/{host.pk}/wiring/", {"vm": first_vm.pk}),
                "interfaces": (f"/networks/hosts/{host.pk}/interfaces/", None),
            }
            for page, (url, params) in pages.items():
                result["pages"][f"{who}:{label}:{page}"] = measure(client, url, params)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
