"""The hash chain: intact chains verify, any edited, removed or inserted row is reported."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.audit import chain
from apps.audit.models import AuditEvent
from apps.audit.retention import verify
from apps.audit.services import record

from .conftest import trigger_disabled


def _verify_output():
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_each_record_carries_the_hash_of_the_one_before(events):
    first, second, third = events(3)
    assert len(first.hash) == 64
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert third.time >= second.time >= first.time


def test_a_fresh_chain_verifies(events):
    events(5)
    total = AuditEvent.objects.count()
    output = _verify_output()
    assert f"{total} records, chain intact" in output
    assert AuditEvent.objects.order_by("-id").first().hash in output


def test_hashes_survive_the_database_round_trip(db):
    params = {"big": 1e20, "one": 1.0, "small": 1.5e-7, 3: "int key", "nested": {"list": (1, 2.5)}}
    event = record("auth.denied", "denied", params=params, changes={"memory": {"before": 1024, "after": 2048.0}})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert chain.row_hash(stored.prev_hash, stored) == stored.hash == event.hash


def test_an_ipv6_source_hashes_the_same_after_postgres_normalises_it(db):
    from apps.core import context

    token = context.use(context.RequestContext("r1", "2001:DB8:0:0::1", "ua"))
    try:
        event = record("auth.denied", "denied")
    finally:
        context.reset(token)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert chain.row_hash(stored.prev_hash, stored) == stored.hash


def test_an_edited_row_is_reported_as_the_first_broken_link(events):
    rows = events(6)
    victim = rows[2]
    with trigger_disabled() as cursor:
        cursor.execute("UPDATE audit_auditevent SET error = 'nothing happened' WHERE id = %s", [victim.pk])
    result = verify()
    assert result.broken.id == victim.pk
    assert "wrong hash" in result.broken.reason
    with pytest.raises(CommandError) as exc:
        call_command("audit_verify")
    assert exc.value.returncode == 1
    assert f"chain broken at id {victim.pk}" in str(exc.value) and "wrong hash" in str(exc.value)


def test_an_edit_that_also_rewrites_the_hash_breaks_the_next_link(events):
    rows = events(4)
    victim = rows[1]
    forged = AuditEvent.objects.get(pk=victim.pk)
    forged.error = "forged"
    new_hash = chain.row_hash(forged.prev_hash, forged)
    with trigger_disabled() as cursor:
        cursor.execute("UPDATE audit_auditevent SET error = 'forged', hash = %s WHERE id = %s", [new_hash, victim.pk])
    broken = verify().broken
    assert broken.id == rows[2].pk and "prev_hash mismatch" in broken.reason


def test_a_removed_row_is_reported_at_its_successor(events):
    rows = events(4)
    with trigger_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [rows[1].pk])
    broken = verify().broken
    assert broken.id == rows[2].pk and "prev_hash mismatch" in broken.reason


def test_a_removed_beginning_is_not_taken_for_a_prune(events):
    rows = events(3)
    with trigger_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id <= %s", [rows[0].pk])
    broken = verify().broken
    assert broken.id == rows[1].pk and "no audit.prune recorded" in broken.reason


def test_the_canonical_form_is_stable_and_sorted():
    row = {
        "time": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "actor_id": "7",
        "params": {"b": 1.0, "a": [1, {"y": 2, "x": 3}]},
        "source_ip": "::ffff:1.2.3.4",
    }
    text = chain.canonical(row)
    data = json.loads(text)
    assert data["time"] == "2026-01-02T03:04:05.000006Z"
    assert data["actor_id"] == 7 and data["params"] == {"a": [1, {"x": 3, "y": 2}], "b": 1}
    assert text == chain.canonical({**row, "time": "2026-01-02T03:04:05.000006Z", "actor_id": 7})
    assert list(data) == sorted(data)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="migrating back and forth inside a test needs PostgreSQL")
def test_migrating_chains_the_records_written_before_the_chain_existed(db):
    latest = [("audit", max(name for app, name in MigrationExecutor(connection).loader.graph.leaf_nodes("audit")))]
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0001_initial")])
    with connection.cursor() as cursor:
        for i in range(3):
            cursor.execute(
                "INSERT INTO audit_auditevent (time, actor_name, source_ip, user_agent, action, outcome, target_type,"
                " target_id, target_name, host_name, params, error, request_id)"
                " VALUES (now(), 'old', '192.0.2.9', '', 'auth.denied', 'denied', '', '', '', '', %s, '', '')",
                [json.dumps({"i": i, "ratio": 1.0})],
            )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as if committed before the upgrade
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    result = verify()
    assert result.broken is None and result.count == 3
    assert len(AuditEvent.objects.values_list("hash", flat=True).distinct()) == 3


def test_oversized_text_is_cut_to_fit_rather_than_failing_the_action(db):
    from apps.core import context

    token = context.use(context.RequestContext("r" * 500, None, "ua"))
    try:
        event = record("auth.denied", "denied", error="e" * 10_000)
    finally:
        context.reset(token)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.request_id == "r" * 64 and len(stored.error) == 10_000
    assert chain.row_hash(stored.prev_hash, stored) == stored.hash
