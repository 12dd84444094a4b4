"""Append-only, in the ORM and (on PostgreSQL) in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import record

pytestmark = pytest.mark.django_db


def test_queryset_update_and_delete_are_refused(events):
    events(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(action="auth.denied").update(error="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update(list(AuditEvent.objects.all()), ["error"])
    assert AuditEvent.objects.count() >= 2


def test_rows_are_written_only_through_record():
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(action="auth.denied", outcome="denied")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="auth.denied", outcome="denied", hash="0" * 64)])


def test_a_saved_record_cannot_be_changed_or_deleted():
    event = record("auth.denied", "denied")
    event.error = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
class TestTrigger:
    def _raw(self, sql, params, *, prune=False):
        with transaction.atomic(), connection.cursor() as cursor:
            if prune:
                cursor.execute("SET LOCAL kvmweb.audit_prune = 'on'")
            cursor.execute(sql, params)
            return cursor.rowcount

    def test_a_raw_update_is_refused(self):
        event = record("auth.denied", "denied")
        with pytest.raises(DatabaseError, match="append-only"):
            self._raw("UPDATE audit_auditevent SET error = 'x' WHERE id = %s", [event.pk])
        assert AuditEvent.objects.get(pk=event.pk).error == ""

    def test_a_raw_delete_is_refused(self):
        event = record("auth.denied", "denied")
        with pytest.raises(DatabaseError, match="append-only"):
            self._raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_the_prune_setting_allows_a_delete_but_never_an_update(self):
        event = record("auth.denied", "denied")
        with pytest.raises(DatabaseError, match="append-only"):
            self._raw("UPDATE audit_auditevent SET error = 'x' WHERE id = %s", [event.pk], prune=True)
        deleted = self._raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk], prune=True)
        assert deleted == 1


def test_deleting_a_user_keeps_their_records_and_the_chain(django_user_model):
    from apps.audit.retention import verify

    user = django_user_model.objects.create_user(username="leaver", password=None)
    event = record("auth.denied", "denied", actor=user)
    user.delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor_name == "leaver" and kept.actor_id == event.actor_id
    assert verify().broken is None
