"""What a live VM event costs per subscriber, and what a page costs, in queries: what the user holds
is read once per event and once per request, whatever the number of grants — and read afresh for
the next one, so a revoked grant counts at once."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import Team
from apps.accounts.services import grant_add, user_create
from apps.authz.models import Grant
from apps.authz.rights import may, rights_cache
from apps.compute.models import VirtualMachine
from apps.core import realtime
from apps.hosts.models import Host
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MIDDLEWARE = "apps.authz.rights.RightsCacheMiddleware"
# One query for the VM row (with its host), one for everything the user holds.
EVENT_QUERIES = 2


@pytest.fixture
def host(db):
    # Inventory rows only: rendering an event or a page reads no libvirt.
    return Host.objects.create(name="cost", uri="test+unix:///default?socket=/nonexistent/cost")


def _vm(host, name, state="running"):
    return VirtualMachine.objects.create(host=host, uuid=uuid.uuid4(), name=name, state=state, vcpus=1)


def _user(name, host, vm, extra_grants):
    """Viewer of the host and VM user on `vm`, plus `extra_grants` VM-user grants on other VMs
    (half of them through a team)."""
    user, _ = user_create(actor=None, username=name, password=PASSWORD)
    grant_add(actor=None, user=user, role="Viewer", scope=host)
    grant_add(actor=None, user=user, role="VM user", scope=vm)
    team = Team.objects.create(name=f"{name}-team")
    team.members.add(user)
    for i in range(extra_grants):
        other = _vm(host, f"{name}-other-{i}", state="shutoff")
        if i % 2:
            grant_add(actor=None, user=user, role="VM user", scope=other)
        else:
            grant_add(actor=None, team=team, role="VM user", scope=other)
    return user


def _event(vm):
    return {"type": "live.event", "kind": "vm", "id": vm.pk, "change": "state"}


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result


def test_a_live_vm_event_costs_the_same_for_one_grant_and_for_fifty(host, django_assert_max_num_queries):
    vm = _vm(host, "web")
    few = _user("few", host, vm, extra_grants=0)
    many = _user("many", host, vm, extra_grants=48)
    assert Grant.objects.filter(user=many).count() + Grant.objects.filter(team__members=many).count() == 50

    with django_assert_max_num_queries(EVENT_QUERIES):
        few_html = realtime.render_event(few, _event(vm))
    with django_assert_max_num_queries(EVENT_QUERIES):
        many_html = realtime.render_event(many, _event(vm))
    assert (
        _count(lambda: realtime.render_event(few, _event(vm)))[0]
        == _count(lambda: realtime.render_event(many, _event(vm)))[0]
    )
    # The renderer did ask each question: both may power the VM (buttons), neither may delete it.
    for html in (few_html, many_html):
        joined = "".join(html)
        assert f'id="vm-row-{vm.pk}"' in joined and "Shut down</button>" in joined
        assert "Delete…" not in joined


def test_a_grant_revoked_between_two_events_counts_at_the_next(host):
    vm = _vm(host, "web")
    user = _user("bob", host, vm, extra_grants=0)  # the same object for the socket's whole life
    assert "Shut down</button>" in "".join(realtime.render_event(user, _event(vm)))
    Grant.objects.filter(user=user, role__name="VM user").delete()
    html = "".join(realtime.render_event(user, _event(vm)))
    assert f'id="vm-row-{vm.pk}"' in html and "Shut down</button>" not in html
    Grant.objects.filter(user=user).delete()
    assert realtime.render_event(user, _event(vm)) == []


def test_outside_a_unit_of_work_every_question_reads_afresh(host):
    vm = _vm(host, "web")
    user = _user("carol", host, vm, extra_grants=0)
    assert may(user, "vm.power", vm)
    Grant.objects.filter(user=user, role__name="VM user").delete()
    assert not may(user, "vm.power", vm)


def test_inside_one_unit_the_rights_are_read_once_and_a_change_there_is_seen(host):
    vm = _vm(host, "web")
    user = _user("dan", host, vm, extra_grants=3)
    with rights_cache():
        first, allowed = _count(lambda: may(user, "vm.power", vm))
        later, _ = _count(lambda: [may(user, p, vm) for p in ("vm.view", "vm.power", "vm.delete", "storage.view")])
        assert (first, later, allowed) == (1, 0, True)
        # A grant removed inside the unit itself (the grant pages do this) is not answered from memory.
        Grant.objects.filter(user=user, role__name="VM user").delete()
        assert not may(user, "vm.power", vm)


@pytest.fixture
def rights_per_request(settings):
    """The middleware as kvmweb's settings list it, after AuthenticationMiddleware."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        at = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:at], MIDDLEWARE, *settings.MIDDLEWARE[at:]]


def _grant_reads(queries):
    return [q["sql"] for q in queries if 'FROM "accounts_grant"' in q["sql"]]


def test_a_page_reads_the_rights_once_whatever_the_grants(client, host, rights_per_request):
    vm = _vm(host, "web")
    counts = {}
    for name, extra in (("few", 0), ("many", 48)):
        _user(name, host, vm, extra_grants=extra)
        assert client.login(username=name, password=PASSWORD)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("compute:vm_detail", args=[vm.pk]))
        assert response.status_code == 200 and "Shut down</button>" in response.content.decode()
        assert len(_grant_reads(ctx.captured_queries)) == 1
        counts[name] = len(ctx.captured_queries)
        client.logout()
    assert counts["few"] == counts["many"]


def test_a_grant_revoked_between_two_requests_counts_at_the_next(client, host, rights_per_request):
    vm = _vm(host, "web")
    user = _user("erin", host, vm, extra_grants=0)
    assert client.login(username="erin", password=PASSWORD)
    shutdown = reverse("compute:vm_power", args=[vm.pk, "shutdown"])  # the working button, not the greyed one
    assert shutdown in client.get(reverse("compute:vm_detail", args=[vm.pk])).content.decode()
    Grant.objects.filter(user=user, role__name="VM user").delete()
    assert shutdown not in client.get(reverse("compute:vm_detail", args=[vm.pk])).content.decode()
