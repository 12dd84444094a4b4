"""The checks that depend on what is posted, route by route and role by role (issue 9: "the route
× role matrix covers the new checks"). Each row of tests/accounts/matrix_inputs.py posts a payload
as the least-right user that reaches the form, and expects the status, a message naming what was
needed, a "denied" audit row naming the permission, and nothing changed — or, for the rows that
show the check lets the right people through, the change queued."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from apps.accounts.services import grant_add, role_create, user_create
from apps.audit.models import AuditEvent
from apps.hosts.models import Host
from apps.network.models import VirtualNetwork
from apps.operations.models import Operation
from apps.storage.models import StoragePool, StorageVolume
from tests.accounts.matrix_inputs import ROLES, ROWS, USERS
from tests.conftest import PASSWORD
from tests.helpers import make_vm


class MissingDeniedRow(AssertionError):
    """The request was refused as it should be, but no "denied" audit row says so."""


def _pool(host, name, n, **kw):
    return StoragePool.objects.create(
        host=host, uuid=f"5ec0e7a5-0000-4000-8000-{n:012d}", name=name, pool_type="dir", state="running",
        target_path=f"/srv/{name}", **kw,
    )  # fmt: skip


def _volume(pool, name, fmt):
    path = f"{pool.target_path}/{name}"
    return StorageVolume.objects.create(pool=pool, name=name, key=path, path=path, format=fmt, capacity=1 << 20)


def _network(host, name, n):
    return VirtualNetwork.objects.create(host=host, uuid=f"5ec0e7a5-0000-4000-8000-0000000001{n:02d}", name=name)


@pytest.fixture
def world(demo_host):
    """One VM on the demo host; team B's pool, another team's pool and the ISO library, a volume
    or ISO in each; the "guests" and "team-b-net" networks; the bridge br-guests opened to VM
    users; and the users of matrix_inputs.USERS with their grants."""
    Host.objects.filter(pk=demo_host.pk).update(vm_bridges=["br-guests"])
    demo_host.refresh_from_db()
    team_b, team_c = _pool(demo_host, "team-b", 1), _pool(demo_host, "team-c", 2)
    isos = _pool(demo_host, "isos", 3, is_iso_library=True)
    o = {
        "host": demo_host,
        "vm": make_vm(demo_host),
        "team-b": team_b,
        "isos": isos,
        "b.qcow2": _volume(team_b, "b.qcow2", "qcow2"),
        "stray.iso": _volume(team_b, "stray.iso", "iso"),
        "hidden.iso": _volume(team_c, "hidden.iso", "iso"),
        "debian.iso": _volume(isos, "debian.iso", "iso"),
        "guests": _network(demo_host, "guests", 1),
        "team-b-net": _network(demo_host, "team-b-net", 2),
    }
    for name, permissions in ROLES.items():
        role_create(actor=None, name=name, permissions=permissions)
    o["users"] = {}
    for username, grants in USERS.items():
        user, _ = user_create(actor=None, username=username.replace("_", "-"), password=PASSWORD)
        for role, scope in grants:
            grant_add(actor=None, user=user, role=role, scope=o[scope])
        o["users"][username] = user
    return o


def _state(o):
    """What a refused request must leave as it was: the queue, the host row, the pools."""
    host = Host.objects.values("name", "uri", "vm_bridges").get(pk=o["host"].pk)
    return list(Operation.objects.values_list("pk", flat=True)), host, StoragePool.objects.count()


def _params(row):
    marks = [pytest.mark.xfail(raises=MissingDeniedRow, strict=True, reason=row.gap)] if row.gap else []
    return pytest.param(row, id=row.name, marks=marks)


@pytest.mark.parametrize("row", [_params(r) for r in ROWS])
def test_each_input_gets_the_right_answer(row, world, django_capture_on_commit_callbacks):
    user = world["users"][row.role]
    url = reverse(row.route, kwargs=row.kwargs(world))
    data = row.data(world)
    before, last_event = _state(world), AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False):  # queued, never run: no worker here
        response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == row.status, f"POST {url} as {row.role}: {response.content.decode()[:500]}"

    body = response.content.decode()
    plain = response["Content-Type"].startswith("text/plain")  # a 403 to htmx: the reason alone
    assert (row.says if plain else escape(row.says)) in body, f"the answer does not say {row.says!r}"

    denied = AuditEvent.objects.filter(pk__gt=last_event or 0, actor=user, action="auth.denied", outcome="denied")
    if row.denied is None:
        assert not denied.exists(), [e.params for e in denied]
        assert _state(world) != before, "an allowed request changed nothing"
        new = Operation.objects.exclude(pk__in=before[0])
        assert [op.kind for op in new] == ([row.queues] if row.queues else [])
        assert all(op.actor_id == user.pk for op in new)
        return
    assert _state(world) == before, "a refused request changed something"
    if not denied.exists():
        raise MissingDeniedRow(f"no 'denied' audit row for {row.role}'s refused POST {url}")
    assert [e.params["permission"] for e in denied] == [row.denied]
