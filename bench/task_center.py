"""How fast is the task center at a million operations? Prints JSON timings.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_task_center_bench \\
        .venv/bin/python bench/task_center.py [--rows 1000000]

The database (PostgreSQL only) is created and migrated if needed, then filled with INSERT … SELECT
over generate_series (a year of history on 20 hosts, 5,000 VMs, 20 people; most operations
succeeded, some failed or were cancelled, the newest still queued or running). It refuses a
database holding operations that are not its own.

Each page is fetched through Django's test client as a signed-in user (session, rights, query,
template), a few times; the median is reported with the number of queries, the CPU the fetch took
in this process and the time its SQL took. "Deep" pages are
reached the way the Older link reaches them, by a cursor, here one 95 % of the way back.
"""

import argparse
import json
import statistics
import sys
import time

import pagebench  # noqa: E402 - sets up the path and settings module first

BENCH_TAG = "bench"
USERS = 20
KINDS = [
    "vm.start",
    "vm.shutdown",
    "vm.reboot",
    "vm.destroy",
    "vm.snapshot_create",
    "vm.clone",
    "vm.disk_attach",
    "vm.settings",
    "volume.create",
    "volume.upload",
    "pool.refresh",
    "network.start",
]
# One in 50 failed, one in 200 cancelled; the newest 40 are still running or queued.
FILL_SQL = """
INSERT INTO operations_operation (
    kind, status, progress, message, error, actor_id, actor_name, target_type, target_id, target_name,
    host_id, host_name, params, task_id, request_id, source_ip, user_agent, created_at, started_at, finished_at,
    failure_seen)
SELECT
    (%(kinds)s::text[])[1 + g %% %(n_kinds)s],
    CASE WHEN g > %(total)s - 20 THEN 'queued' WHEN g > %(total)s - 40 THEN 'running'
         WHEN g %% 50 = 0 THEN 'failed' WHEN g %% 200 = 7 THEN 'cancelled' ELSE 'succeeded' END,
    CASE WHEN g > %(total)s - 40 THEN g %% 100 ELSE 100 END,
    '',
    CASE WHEN g %% 50 = 0 THEN 'Requested operation is not valid: domain ' || g || ' is not running'
         WHEN g %% 200 = 7 THEN 'Cancelled by user' || (g %% 7) || ' before it started.' ELSE '' END,
    (%(users)s::bigint[])[1 + g %% %(n_users)s],
    'bench-user' || (g %% %(n_users)s),
    'vm',
    (g %% 5000)::text,
    'vm-' || (g %% 5000) || CASE WHEN g %% 13 = 0 THEN '-db' ELSE '' END,
    1 + g %% 20,
    'hv' || (1 + g %% 20),
    jsonb_build_object('n', g),
    '',
    %(tag)s,
    NULL,
    'bench',
    now() - interval '365 days' + (g * (interval '365 days' / %(total)s)),
    CASE WHEN g > %(total)s - 20 THEN NULL
         ELSE now() - interval '365 days' + (g * (interval '365 days' / %(total)s)) + interval '1 second' END,
    CASE WHEN g > %(total)s - 40 THEN NULL
         ELSE now() - interval '365 days' + (g * (interval '365 days' / %(total)s)) + interval '9 seconds' END,
    g < %(total)s - 5000
FROM generate_series(%(start)s, %(stop)s) AS g
"""


def _users():
    from django.contrib.auth import get_user_model

    model = get_user_model()
    users = []
    for i in range(USERS):
        user = model.objects.filter(username=f"bench-user{i}").first()
        users.append(user or model.objects.create_user(username=f"bench-user{i}", password=None))
    return users


def fill(rows, users):
    from django.db import connection

    from apps.operations.models import Operation

    have = Operation.objects.filter(request_id=BENCH_TAG).count()
    if not have and Operation.objects.exists():
        sys.exit("refusing: this database already holds operations, and they are not bench data")
    started = time.perf_counter()
    batch = 100_000
    with connection.cursor() as cursor:
        for start in range(have + 1, rows + 1, batch):
            params = {
                "total": rows,
                "kinds": KINDS,
                "n_kinds": len(KINDS),
                "users": [u.pk for u in users],
                "n_users": len(users),
                "tag": BENCH_TAG,
                "start": start,
                "stop": min(start + batch - 1, rows),
            }
            cursor.execute(FILL_SQL, params)
        cursor.execute("ANALYZE operations_operation")
    return {"rows_inserted": max(rows - have, 0), "insert_seconds": round(time.perf_counter() - started, 2)}


def measure(client, url, params, repeat=7):
    """Median wall time of a fetch, and what it is made of: the CPU this process spent (session,
    rights, template; unlike wall time, not inflated by a busy machine) and the SQL's own time."""
    from django.db import connection, reset_queries

    wall, cpu, sql, queries, rows = [], [], [], 0, 0
    for i in range(repeat + 1):
        reset_queries()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, params)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        assert response.status_code == 200, response.status_code
        if i:  # the first fetch warms caches and is not counted
            wall.append(elapsed * 1000)
            cpu.append(elapsed_cpu * 1000)
            sql.append(sum(float(q["time"]) for q in connection.queries) * 1000)
        queries = len(connection.queries)
        rows = len(response.context["page"].rows)
    return {
        "median_ms": round(statistics.median(wall), 1),
        "max_ms": round(max(wall), 1),
        "cpu_ms": round(statistics.median(cpu), 1),
        "sql_ms": round(statistics.median(sql), 1),
        "queries": queries,
        "rows": rows,
    }


class _Scope:
    """Stands in for a host or a VM the bench rows name by id only."""

    def __init__(self, scope_type, pk):
        self.scope_type, self.pk = scope_type, pk

    def authz_scopes(self):
        return [(self.scope_type, self.pk)]

    def audit_target(self):
        return {"target_type": self.scope_type, "target_id": self.pk, "target_name": f"{self.scope_type}{self.pk}"}

    def __str__(self):
        return f"{self.scope_type}{self.pk}"


def _scoped_user(name, role, scope):
    from django.contrib.auth import get_user_model

    from apps.accounts.services import grant_add

    model = get_user_model()
    user = model.objects.filter(username=name).first()
    if user is None:
        user = model.objects.create_user(username=name, password=None)
        grant_add(actor=None, user=user, role=role, scope=scope)
    return user


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = pagebench.setup()
    from django.contrib.auth import get_user_model

    from apps.operations import filters
    from apps.operations.models import Operation

    users = _users()
    result = {"database": settings.DATABASES["default"]["NAME"]}
    result.update(fill(args.rows, users))
    result["total_rows"] = Operation.objects.count()

    model = get_user_model()
    admin = model.objects.filter(username="bench-admin").first() or model.objects.create_superuser(
        username="bench-admin", password=None
    )
    deep_row = Operation.objects.order_by("created_at", "id")[args.rows // 20]  # 95 % of the way back
    deep = filters.cursor_of(deep_row)
    month_ago = Operation.objects.order_by("-created_at", "-id")[args.rows // 12].created_at
    day = month_ago.date().isoformat()
    url = "/operations/"
    pages = {
        "first_page": {},
        "mine_page": {"mine": "1"},
        "failed_on_one_host_page": {"status": "failed", "host": "hv1"},
        "unknown_host_page": {"host": "hv-nowhere"},
        "kind_page": {"kind": "network.start"},
        "target_search_page": {"target": "vm-42-db"},
        "time_range_page": {"since": day, "until": day},
        "deep_page": {"before": deep},
        "deep_filtered_page": {"status": "failed", "kind": "vm.start", "before": deep},
        "deep_mine_page": {"mine": "1", "before": deep},
    }
    clients = {"admin": _client(admin), "mine": _client(users[3])}
    result["pages"] = {}
    for name, params in pages.items():
        client = clients["mine" if params.get("mine") else "admin"]
        result["pages"][name] = {"params": params, **measure(client, url, params)}
    # The visibility condition is part of every query: a viewer of one host of twenty, and a VM
    # user who sees one VM of 5,000 (a few hundred rows among a million) and their own work.
    host_viewer = _client(_scoped_user("bench-host-viewer", "Viewer", _Scope("host", 3)))
    vm_user = _client(_scoped_user("bench-vm-user", "VM user", _Scope("vm", 42)))
    scoped = {
        "one_host_first_page": (host_viewer, {}),
        "one_host_deep_page": (host_viewer, {"before": deep}),
        "one_vm_first_page": (vm_user, {}),
        "one_vm_deep_page": (vm_user, {"before": deep}),
    }
    for name, (client, params) in scoped.items():
        result["pages"][name] = {"params": params, **measure(client, url, params)}
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
