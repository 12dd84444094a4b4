"""Free-text search: substring semantics, wildcards taken literally, and an index behind it."""

import pytest
from django.db import connection

from apps.audit import search
from apps.audit.models import AuditEvent
from apps.audit.services import record

from .conftest import Target

pytestmark = pytest.mark.django_db


def _found(words):
    return set(search.search(AuditEvent.objects.all(), words).values_list("id", flat=True))


def test_search_finds_words_anywhere_in_the_record(demo_host):
    by_error = record("auth.denied", "denied", error="Requested operation is not valid: domain is not running")
    by_param = record("auth.denied", "denied", params={"iso": "debian-12.5-netinst.iso"})
    by_name = record("auth.denied", "denied", target=Target("vm", 1, "Billing-DB", demo_host))
    assert _found("NOT RUNNING") == {by_error.pk}
    assert _found("netinst") == {by_param.pk}
    assert _found("billing db") == {by_name.pk}  # every word must occur, in any order
    assert _found("demo billing") == {by_name.pk}


def test_wildcards_are_literal(db):
    hundred = record("auth.denied", "denied", params={"used": "100%"})
    record("auth.denied", "denied", params={"used": "1000"})
    under = record("auth.denied", "denied", params={"name": "a_b"})
    record("auth.denied", "denied", params={"name": "axb"})
    assert _found("100%") == {hundred.pk}
    assert _found("a_b") == {under.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
def test_search_uses_the_trigram_index():
    from importlib import import_module

    migration = import_module("apps.audit.migrations.0004_search_trgm")
    assert migration.SEARCH_SQL == search.SEARCH_SQL  # the query and the index must say the same thing
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = search.search(AuditEvent.objects.order_by(), "needle").explain()
    assert "audit_search_trgm" in plan, plan
    plan = search.name_contains(AuditEvent.objects.order_by(), "target_name", "web").explain()
    assert "audit_target_name_trgm" in plan, plan
