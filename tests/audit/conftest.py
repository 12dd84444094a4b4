"""Helpers for the audit tests: targets that look like VMs and hosts, tampering with raw SQL."""

from contextlib import contextmanager

import pytest
from django.db import connection

from apps.audit.services import record


class Target:
    """Anything with audit_target(): the audit log knows objects only by type, id and name."""

    def __init__(self, target_type, pk, name, host=None):
        self.target_type, self.pk, self.name, self.host = target_type, pk, name, host

    def audit_target(self):
        return {
            "target_type": self.target_type,
            "target_id": self.pk,
            "target_name": self.name,
            "host_id": self.host.pk if self.host else None,
            "host_name": self.host.name if self.host else "",
        }


@contextmanager
def trigger_disabled():
    """Let a test edit the table behind the application's back, as an intruder would."""
    postgres = connection.vendor == "postgresql"  # elsewhere there is no trigger to disable
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        try:
            yield cursor
        finally:
            if postgres:
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")


@pytest.fixture
def events(db):
    """Record n denied-attempt events and return them (oldest first)."""

    def make(n, **kwargs):
        return [record("auth.denied", "denied", params={"permission": "vm.power", "n": i}, **kwargs) for i in range(n)]

    return make
