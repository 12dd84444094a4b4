"""How fast is the audit page at a million records? Prints JSON timings.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_audit_bench \\
        .venv/bin/python bench/audit_page.py [--rows 1000000]

The database (PostgreSQL only) is created and migrated if needed, then filled with one
INSERT … SELECT over generate_series — seconds, not the hours a million record() calls would take.
The bench rows' hashes are PLACEHOLDERS ("bench…"), not a chain: audit_verify fails on this database
by design. The point is page speed. It refuses a database holding records that are not its own.

Each page is fetched through Django's test client as a signed-in user (session, authorization,
query, template), a few times; the median is reported with the number of queries.
"""

import argparse
import json
import statistics
import sys
import time

import pagebench  # noqa: E402 - sets up the path and settings module first

BENCH_TAG = "bench"
ACTIONS = ["vm.start", "vm.shutdown", "vm.reboot", "vm.destroy", "vm.suspend", "vm.resume", "host.state", "auth.denied"]
OUTCOMES = ["requested", "succeeded", "requested", "succeeded", "failed", "denied", "detected"]

# Times run forward with id (as record() guarantees): a year of history, newest now.
FILL_SQL = """
INSERT INTO audit_auditevent (
    time, actor_id, actor_name, source_ip, user_agent, action, outcome, target_type, target_id, target_name,
    host_id, host_name, params, changes, error, operation_id, request_id, prev_hash, hash)
SELECT
    now() - interval '365 days' + (g * (interval '365 days' / %(total)s)),
    NULL,
    CASE WHEN g %% 7 = 0 THEN '' ELSE 'user' || (g %% 23) END,
    ('10.0.' || (g %% 200) || '.' || (g %% 251))::inet,
    'bench',
    (%(actions)s::text[])[1 + g %% %(n_actions)s],
    (%(outcomes)s::text[])[1 + g %% %(n_outcomes)s],
    'vm',
    (g %% 5000)::text,
    'vm-' || (g %% 5000) || CASE WHEN g %% 13 = 0 THEN '-db' ELSE '' END,
    1 + g %% 10,
    'hv' || (1 + g %% 10),
    jsonb_build_object('n', g, 'iso', 'debian-' || (g %% 17) || '.iso'),
    '{}'::jsonb,
    CASE WHEN g %% 50 = 0 THEN 'Requested operation is not valid: domain ' || g || ' is not running' ELSE '' END,
    g,
    %(tag)s,
    'bench-placeholder',
    'bench-placeholder-not-a-hash-' || g
FROM generate_series(%(start)s, %(stop)s) AS g
"""


def fill(rows):
    from django.db import connection

    from apps.audit.models import AuditEvent

    have = AuditEvent.objects.filter(request_id=BENCH_TAG).count()
    if not have and AuditEvent.objects.exists():
        sys.exit("refusing: this database already holds audit records, and they are not bench data")
    started = time.perf_counter()
    batch = 100_000
    with connection.cursor() as cursor:
        for start in range(have + 1, rows + 1, batch):
            params = {
                "total": rows,
                "actions": ACTIONS,
                "n_actions": len(ACTIONS),
                "outcomes": OUTCOMES,
                "n_outcomes": len(OUTCOMES),
                "tag": BENCH_TAG,
                "start": start,
                "stop": min(start + batch - 1, rows),
            }
            cursor.execute(FILL_SQL, params)
        cursor.execute("ANALYZE audit_auditevent")
    return {"rows_inserted": max(rows - have, 0), "insert_seconds": round(time.perf_counter() - started, 2)}


def measure(client, url, params, repeat=5):
    from django.db import connection, reset_queries

    timings, queries, rows = [], 0, 0
    for i in range(repeat + 1):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if i:  # the first fetch warms caches and is not counted
            timings.append(elapsed * 1000)
        queries = len(connection.queries)
        rows = len(response.context["page"].rows)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries": queries,
        "rows": rows,
    }


class _BenchHost:
    """Stands in for host 3 (the bench rows name hosts 1-10 by id only)."""

    def authz_scopes(self):
        return [("host", 3)]

    def audit_target(self):
        return {"target_type": "host", "target_id": 3, "target_name": "hv3", "host_id": 3, "host_name": "hv3"}

    def __str__(self):
        return "hv3"


def _scoped_user(user_model):
    from apps.accounts.services import grant_add

    user = user_model.objects.filter(username="bench-viewer").first()
    if user is None:
        user = user_model.objects.create_user(username="bench-viewer", password=None)
        grant_add(actor=None, user=user, role="Viewer", scope=_BenchHost())
    return user


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = pagebench.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Max, Min
    from django.test import Client

    result = {"database": settings.DATABASES["default"]["NAME"], "hashes": "placeholders, not verifiable"}
    result.update(fill(args.rows))

    from apps.audit.models import AuditEvent

    user_model = get_user_model()
    admin = user_model.objects.filter(username="bench-admin").first()
    if admin is None:
        admin = user_model.objects.create_superuser(username="bench-admin", password=None)
    client = Client()
    client.force_login(admin)
    scoped = Client()
    scoped.force_login(_scoped_user(user_model))
    bounds = AuditEvent.objects.aggregate(lo=Min("id"), hi=Max("id"))
    deep = bounds["lo"] + (bounds["hi"] - bounds["lo"]) // 20  # 95% of the way back
    month_ago = AuditEvent.objects.filter(id__lte=bounds["hi"] - args.rows // 12).order_by("-id").first().time
    pages = {
        "first_page": {},
        "filtered_page": {"action": "vm.reboot", "host": "hv3", "outcome": "failed"},
        "deep_keyset_page": {"before": deep},
        "deep_filtered_keyset_page": {"action": "vm.start", "before": deep},
        "time_range_page": {"since": month_ago.date().isoformat(), "until": month_ago.date().isoformat()},
        "search_page": {"q": "not running vm-42"},
        "target_name_page": {"target": "-db", "user": "user5"},
    }
    result["total_rows"] = AuditEvent.objects.count()
    result["pages"] = {name: {"params": params, **measure(client, "/audit/", params)} for name, params in pages.items()}
    # A user who may view one host of ten: the visibility condition is part of every query.
    scoped_pages = {"scoped_first_page": {}, "scoped_deep_keyset_page": {"before": deep}}
    for name, params in scoped_pages.items():
        result["pages"][name] = {"params": params, **measure(scoped, "/audit/", params)}
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
