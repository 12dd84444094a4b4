"""How audit records read: one line per action with its outcome, changes in words, names in every
sentence, refusals that say what was tried. The records themselves stay two (request, outcome)."""

import csv
import io
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from apps.audit import present
from apps.audit.models import AuditEvent
from apps.audit.services import record
from apps.audit.templatetags.audit_tags import live_line

from .conftest import Target


def _op(pk):
    """What record() reads of an Operation: its id and the request that asked for it."""
    return SimpleNamespace(pk=pk, request_id=f"req-{pk}", source_ip="192.0.2.9", user_agent="pytest")


@pytest.fixture
def web1(demo_host):
    return Target("vm", 41, "web-1", demo_host)


def _rows(html):
    return re.findall(r'<tr class="audit-row"[^>]*>.*?</tr>', html, re.S)


def _text(fragment):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


@pytest.mark.parametrize(
    ("field", "change", "words"),
    [
        ("memory_mib", {"before": 1024, "after": 768}, "Memory 1024 → 768 MiB"),
        ("title", {"before": "a", "after": "b"}, "Title “a” → “b”"),
        ("autostart", {"before": False, "after": True}, "Autostart off → on"),
        ("boot", {"before": ["hd"], "after": ["cdrom", "hd"]}, "Boot order hd → cdrom, hd"),
        ("title", {"before": "", "after": "web"}, "Title “” → “web”"),
        ("password", "***", "Password changed"),
        ("api_token", {"before": "***", "after": "***"}, "Api token changed"),
    ],
)
def test_changes_read_as_words(field, change, words):
    assert present.change_in_words(field, change).text == words


def test_a_long_change_folds_its_values_away():
    change = present.change_in_words("description", {"before": "x" * 200, "after": "y"})
    assert change.text == "Description changed" and change.long and change.before == "x" * 200


def test_sentences_name_the_object_and_what_the_params_name(db, web1):
    snap = record("vm.snapshot_create", "requested", target=web1, params={"op": "create", "name": "before-upgrade"})
    start = record("vm.start", "requested", target=web1, params={"action": "start"})
    denied = record("auth.denied", "denied", target=web1, params={"permission": "vm.power"})
    bare = record("auth.denied", "denied", params={"permission": "audit.view"})
    assert present.sentence(snap) == "took snapshot before-upgrade of VM web-1"
    assert present.sentence(start) == "started VM web-1"
    assert present.sentence(denied) == "was refused: start, stop or pause VM web-1 (needs vm.power)"
    assert present.sentence(bare) == "was refused: read the whole audit log (needs audit.view)"
    # A refusal that names the action it refused reads as that action.
    named = record("auth.denied", "denied", target=web1, params={"permission": "vm.power", "attempt": "vm.start"})
    assert present.sentence(named) == "was refused: start VM web-1 (needs vm.power)"
    assert present.line(named).details == []
    # What the sentence says is not repeated among the details; the rest is.
    assert present.line(snap).details == [("op", "create")]


def test_settings_changes_in_params_read_as_words(db, web1):
    changes = {"memory_mib": {"before": 1024, "after": 768}, "title": {"before": "a", "after": "b"}}
    event = record("vm.settings", "requested", target=web1, params={"changes": changes})
    line = present.line(event)
    assert [c.text for c in line.changes] == ["Memory 1024 → 768 MiB", "Title “a” → “b”"]
    assert line.details == []


def test_the_page_shows_one_line_per_action_with_its_outcome(client, admin, web1):
    record("vm.start", "requested", actor=admin, target=web1, params={"action": "start"}, operation=_op(7))
    record("vm.reboot", "requested", actor=admin, target=web1, params={"action": "reboot"}, operation=_op(8))
    record("vm.start", "succeeded", actor=admin, target=web1, params={"action": "start"}, operation=_op(7))
    record("vm.reboot", "failed", actor=admin, target=web1, error="Broken pipe", operation=_op(8))
    record("vm.shutdown", "requested", actor=admin, target=web1, operation=_op(9))
    client.force_login(admin)

    rows = _rows(client.get(reverse("audit:event_list"), {"target_type": "vm"}).content.decode())

    assert len(rows) == 3
    shutdown, reboot, start = (_text(r) for r in rows)
    assert "started VM web-1" in start and "succeeded" in start and "requested" not in start
    assert "rebooted VM web-1" in reboot and "failed" in reboot and "Broken pipe" in reboot
    assert "shut down VM web-1" in shutdown and "requested" in shutdown and "not finished" in shutdown
    # The data keeps both records of each action, and so does the export.
    assert AuditEvent.objects.filter(operation_id=7).count() == 2
    exported = client.get(reverse("audit:export_csv")).getvalue().decode()
    assert [r["outcome"] for r in csv.DictReader(io.StringIO(exported)) if r["operation_id"] == "7"] == [
        "requested",
        "succeeded",
    ]


def test_an_outcome_filter_shows_the_outcome_records_themselves(client, admin, web1):
    record("vm.reboot", "requested", actor=admin, target=web1, operation=_op(8))
    record("vm.reboot", "failed", actor=admin, target=web1, error="Broken pipe", operation=_op(8))
    client.force_login(admin)

    rows = _rows(client.get(reverse("audit:event_list"), {"outcome": "failed"}).content.decode())

    assert len(rows) == 1 and 'data-outcome="failed"' in rows[0] and "rebooted VM web-1" in _text(rows[0])


def test_the_table_scrolls_inside_its_column(client, admin, web1):
    record("vm.start", "requested", actor=admin, target=web1)
    client.force_login(admin)
    html = client.get(reverse("audit:event_list")).content.decode()
    assert re.search(r'<div class="table-responsive[^"]*">\s*<table', html)


def test_a_live_outcome_comes_as_its_requests_line(db, admin, web1):
    request = record("vm.start", "requested", actor=admin, target=web1, operation=_op(7))
    outcome = record("vm.start", "succeeded", actor=admin, target=web1, operation=_op(7))
    line = live_line(outcome)
    assert line.event == request and line.result == outcome and line.outcome == "succeeded"
    assert line.key == present.line(request).key == "op-7"


def test_activity_shows_one_line_per_action(client, admin, web1):
    record("vm.start", "requested", actor=admin, target=web1, operation=_op(7))
    record("vm.start", "succeeded", actor=admin, target=web1, operation=_op(7))
    client.force_login(admin)
    html = client.get(reverse("audit:activity", args=["vm", "41"])).content.decode()
    rows = re.findall(r'<tr class="activity-row".*?</tr>', html, re.S)
    assert len(rows) == 1 and "started VM web-1" in _text(rows[0]) and "succeeded" in _text(rows[0])
