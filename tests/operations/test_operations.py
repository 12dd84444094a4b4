from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.scrub import scrub
from apps.audit.services import record
from apps.operations.models import Operation
from apps.operations.services import operations_reap_stale


def _op(status, **times):
    op = Operation.objects.create(kind="vm.start", target_type="vm", target_id="1", target_name="x", status=status)
    Operation.objects.filter(pk=op.pk).update(**times)
    return op


def test_reaper_fails_operations_no_worker_will_finish(db):
    long_ago = timezone.now() - timedelta(hours=2)
    stuck = _op("running", started_at=long_ago)
    orphan = _op("queued", created_at=long_ago)
    fresh = _op("running", started_at=timezone.now())
    assert operations_reap_stale() == 2
    assert Operation.objects.get(pk=stuck.pk).status == "lost"
    assert "No worker picked" in Operation.objects.get(pk=orphan.pk).error
    assert Operation.objects.get(pk=fresh.pk).status == "running"
    assert AuditEvent.objects.filter(outcome="failed", operation_id=stuck.pk).exists()


def test_a_lost_run_keeps_no_input_that_waited_for_its_runner(db):
    """The runner's cleanup runs for a lost run as for a refused one: an XML text's display
    password does not stay in the row of a define whose worker died."""
    xml = "<domain type='test'><name>x</name><devices><graphics type='vnc' passwd='s3cret'/></devices></domain>"
    op = Operation.objects.create(
        kind="vm.define", target_type="host", target_id="1", target_name="x", status="running", params={"xml": xml}
    )
    Operation.objects.filter(pk=op.pk).update(started_at=timezone.now() - timedelta(hours=7))
    assert operations_reap_stale() == 1
    op.refresh_from_db()
    assert op.status == "lost"
    assert "s3cret" not in op.params["xml"] and "graphics" in op.params["xml"]


def test_an_action_code_cannot_be_registered_twice():
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.register("vm.start", "again")


def test_audit_events_cannot_be_changed_or_deleted(db):
    event = record("auth.denied", "denied", params={"permission": "vm.power"})
    event.error = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_secrets_never_reach_the_audit_params():
    params = {"uri": "qemu:///system", "password": "hunter2", "nested": {"auth_token": "t", "size": 3}}
    assert scrub(params) == {"uri": "qemu:///system", "password": "***", "nested": {"auth_token": "***", "size": 3}}
