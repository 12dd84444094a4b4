"""Hash the records written before the chain existed, then make the table append-only in the
database itself (PostgreSQL): a trigger refuses UPDATE and DELETE, except a DELETE in a transaction
that ran `SET LOCAL kvmweb.audit_prune = 'on'`, which only apps.audit.retention does.

TRUNCATE is not blocked: Django's test runner empties tables with it between transactional tests.
"""

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kvmweb.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""
TRIGGER_SQL = """
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_append_only();
"""


def backfill_hashes(apps, schema_editor):
    from apps.audit.chain import row_hash  # the hash format is a contract; it never changes

    AuditEvent = apps.get_model("audit", "AuditEvent")
    table = AuditEvent._meta.db_table
    prev = ""
    with schema_editor.connection.cursor() as cursor:
        for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
            digest = row_hash(prev, event)
            cursor.execute(f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, event.id])
            prev = digest


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL, params=None)
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_fields")]

    operations = [
        migrations.RunPython(backfill_hashes, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
