"""Trigram (pg_trgm) GIN indexes for the audit page's free-text search and target-name filter, on
PostgreSQL only. The indexed expression must stay identical to apps.audit.search.SEARCH_SQL.

Where pg_trgm cannot be created (no privilege), the indexes are skipped with a warning: search
still works, by scanning.
"""

import sys

from django.db import DatabaseError, migrations, transaction

SEARCH_SQL = (
    "(actor_name || ' ' || action || ' ' || target_name || ' ' || host_name || ' ' || error || ' ' || params::text)"
)


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        sys.stderr.write(f"audit: pg_trgm unavailable ({exc}); audit search will scan instead of using an index\n")
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS audit_search_trgm ON audit_auditevent USING gin ({SEARCH_SQL} gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS audit_target_name_trgm ON audit_auditevent USING gin (target_name gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS audit_search_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS audit_target_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_backfill_trigger")]

    operations = [migrations.RunPython(create, drop)]
