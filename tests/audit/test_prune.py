"""Retention: what is removed is exported first, recorded, and the chain still verifies."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.audit import chain
from apps.audit.models import AuditEvent
from apps.audit.retention import verify
from apps.audit.services import record

OLD = datetime(2020, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def old_and_new(db, monkeypatch):
    """Ten records from 2020 (the clock is set back while they are written), then five from now."""
    assert not AuditEvent.objects.exists()
    for i in range(10):
        monkeypatch.setattr(timezone, "now", lambda i=i: OLD + timedelta(minutes=i))
        record("auth.denied", "denied", params={"n": i})
    monkeypatch.undo()
    new = [record("auth.denied", "denied", params={"n": 10 + i}) for i in range(5)]
    return list(AuditEvent.objects.filter(time__lt=OLD + timedelta(days=1)).order_by("id")), new


def _prune(before, out):
    stdout = StringIO()
    call_command("audit_prune", "--before", before, "--out", str(out), stdout=stdout)
    return stdout.getvalue()


def test_prune_exports_then_removes_and_the_chain_still_verifies(old_and_new, tmp_path):
    old, new = old_and_new
    out = tmp_path / "audit-2020.jsonl"
    message = _prune("2021-01-01", out)
    assert "10 records before 2021-01-01" in message

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in lines] == [e.pk for e in old]
    assert [row["hash"] for row in lines] == [e.hash for e in old]
    # The export is a chain of its own: anyone can recompute its hashes from the file.
    assert chain.walk(lines).broken is None

    remaining = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in remaining[:5]] == [e.pk for e in new]
    pruned = remaining[-1]
    assert pruned.action == "audit.prune"
    assert pruned.params["count"] == 10 and pruned.params["anchor"] == old[-1].hash
    assert pruned.params["before"].startswith("2021-01-01") and pruned.params["file"] == str(out)
    assert remaining[0].prev_hash == pruned.params["anchor"]

    result = verify()
    assert result.broken is None and result.count == 6
    assert "6 records, chain intact" in _verify()


def _verify():
    stdout = StringIO()
    call_command("audit_verify", stdout=stdout)
    return stdout.getvalue()


def test_pruning_everything_leaves_a_verifiable_prune_record(old_and_new, tmp_path):
    future = (timezone.now() + timedelta(days=2)).date().isoformat()
    _prune(future, tmp_path / "all.jsonl")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["audit.prune"]
    assert "1 records, chain intact" in _verify()
    # A second prune later keeps it so: two anchors, one chain.
    record("auth.denied", "denied")
    _prune((timezone.now() + timedelta(days=3)).date().isoformat(), tmp_path / "again.jsonl")
    assert "1 records, chain intact" in _verify()


def test_an_existing_export_file_is_never_overwritten(old_and_new, tmp_path):
    out = tmp_path / "exists.jsonl"
    out.write_text("precious\n")
    with pytest.raises(CommandError, match="exists"):
        _prune("2021-01-01", out)
    assert out.read_text() == "precious\n"
    assert AuditEvent.objects.count() == 15


def test_nothing_to_prune_writes_and_records_nothing(old_and_new, tmp_path):
    out = tmp_path / "none.jsonl"
    assert "nothing older" in _prune("2019-01-01", out)
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="audit.prune").exists()


def test_a_bad_date_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _prune("last year", tmp_path / "x.jsonl")
