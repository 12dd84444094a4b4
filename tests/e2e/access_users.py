"""Users of the issue's roles for the refusal, no-access and read-only browser tests, made before
the browser starts (creating users publishes live events, which cannot run beside Playwright)."""

from apps.accounts.services import grant_add, user_create
from apps.hosts.models import Host
from tests.conftest import PASSWORD


def person(name, role=None, scope=None):
    user, _ = user_create(actor=None, username=name, password=PASSWORD)
    if role:
        grant_add(actor=None, user=user, role=role, scope=scope)
    return user


def other_host():
    """A second host, of another team: its own in-process test driver, none of demo's VMs."""
    return Host.objects.create(name="lab", uri="test:///default")
