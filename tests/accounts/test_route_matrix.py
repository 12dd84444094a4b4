"""Every route, every role: exactly the answer each should get.

A new route fails `test_every_route_declares_its_permission_and_is_in_the_matrix` until its view
declares a permission (apps.authz.decorators.needs / public) and a row is added below.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.services import grant_add, role_create, team_create, user_create
from kvmweb.routing import websocket_urlpatterns
from tests.accounts import (
    matrix_compute,
    matrix_create,
    matrix_devices,
    matrix_graphs,
    matrix_hosts,
    matrix_lifecycle,
    matrix_network,
    matrix_operations,
    matrix_overview,
    matrix_state,
)
from tests.accounts.matrix_common import (
    ADMIN_ONLY_GET,
    ADMIN_ONLY_POST,
    BAD,
    EVERYONE,
    FORBIDDEN,
    LOGIN,
    NO_CONTENT,
    NOT_FOUND,
    OK,
    REDIRECT,
    _pool,
    _secret,
    _transfer,
    _volume,
    row,
)
from tests.conftest import PASSWORD
from tests.helpers import make_vm

# name: (method, kwargs from the fixture objects, expected per role)
MATRIX = {
    "home": ("get", lambda o: {}, row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "login": ("get", lambda o: {}, row(OK, OK, OK, OK, OK)),
    "logout": ("post", lambda o: {}, row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "operations:panel": ("get", lambda o: {}, EVERYONE),
    "operations:operation_detail": (
        "get",
        lambda o: {"pk": _transfer(o, "volume.upload").pk},
        row(LOGIN, OK, NOT_FOUND, OK, OK),
    ),
    # Browsers ask for it whoever they are: a permanent redirect to the static icon.
    "favicon": ("get", lambda o: {}, row(301, 301, 301, 301, 301)),
    "audit:event_list": ("get", lambda o: {}, EVERYONE),
    "audit:export_csv": ("get", lambda o: {}, EVERYONE),
    "audit:export_jsonl": ("get", lambda o: {}, EVERYONE),
    "audit:activity": ("get", lambda o: {"target_type": "vm", "target_id": o["vm"].pk}, EVERYONE),
    "accounts:me": ("get", lambda o: {}, EVERYONE),
    "accounts:user_list": ("get", lambda o: {}, ADMIN_ONLY_GET),
    "accounts:user_detail": ("get", lambda o: {"pk": o["subject"].pk}, ADMIN_ONLY_GET),
    "accounts:user_reset_password": ("post", lambda o: {"pk": o["subject"].pk}, ADMIN_ONLY_POST),
    "accounts:user_logout_everywhere": ("post", lambda o: {"pk": o["subject"].pk}, ADMIN_ONLY_POST),
    "accounts:team_list": ("get", lambda o: {}, ADMIN_ONLY_GET),
    "accounts:team_detail": ("get", lambda o: {"pk": o["team"].pk}, ADMIN_ONLY_GET),
    "accounts:team_member": ("post", lambda o: {"pk": o["team"].pk, "op": "add"}, ADMIN_ONLY_POST),
    "accounts:team_delete": ("post", lambda o: {"pk": o["team"].pk}, ADMIN_ONLY_POST),
    "accounts:role_list": ("get", lambda o: {}, ADMIN_ONLY_GET),
    "accounts:role_detail": ("get", lambda o: {"pk": o["role"].pk}, ADMIN_ONLY_GET),
    "accounts:role_delete": ("post", lambda o: {"pk": o["role"].pk}, ADMIN_ONLY_POST),
    "accounts:grant_add": ("post", lambda o: {"kind": "user", "pk": o["subject"].pk}, ADMIN_ONLY_POST),
    # Self-service: every signed-in user manages their own account; empty POSTs are bad requests.
    "security:index": ("get", lambda o: {}, EVERYONE),
    "security:setup": ("get", lambda o: {}, EVERYONE),
    "security:password": ("post", lambda o: {}, row(LOGIN, BAD, BAD, BAD, BAD)),
    "security:recovery_codes": ("post", lambda o: {}, row(LOGIN, BAD, BAD, BAD, BAD)),
    "security:disable": ("post", lambda o: {}, row(LOGIN, BAD, BAD, BAD, BAD)),
    "security:logout_everywhere": (
        "post",
        lambda o: {},
        row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ),  # ends this session too
    "security:login_code": ("get", lambda o: {}, row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),  # no password step yet
    "accounts:grant_remove": ("post", lambda o: {"pk": o["grant"].pk}, ADMIN_ONLY_POST),
    # Pools: storage.view shows them (the VM user has none); storage.manage acts on them.
    "storage:pool_list": ("get", lambda o: {}, EVERYONE),
    "storage:pool_detail": ("get", lambda o: {"pk": _pool(o).pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "storage:pool_action": (
        "post",
        lambda o: {"pk": _pool(o).pk, "action": "refresh"},
        row(LOGIN, FORBIDDEN, FORBIDDEN, NO_CONTENT, NO_CONTENT),
    ),
    "storage:pool_iso_library": (
        "post",
        lambda o: {"pk": _pool(o).pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, REDIRECT, REDIRECT),
    ),
    # New pools: only who holds storage.manage on some host reaches the type list, the forms and the XML page.
    "storage:pool_new": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "storage:pool_new_type": ("get", lambda o: {"pool_type": "dir"}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "storage:pool_new_xml": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    # Secrets: storage.view lists and shows them; secret.manage defines, sets values and deletes.
    "storage:secret_list": ("get", lambda o: {}, EVERYONE),
    "storage:secret_detail": ("get", lambda o: {"pk": _secret(o).pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "storage:secret_create": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "storage:secret_set_value": ("post", lambda o: {"pk": _secret(o).pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "storage:secret_delete": (
        "post",
        lambda o: {"pk": _secret(o).pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, REDIRECT, REDIRECT),
    ),
    # Volumes: storage.manage on the pool for every action; empty posts get the form's errors
    # (htmx: 200 with the form, the upload script: 400 JSON). A transfer's data goes only to the
    # admin who started it here; anyone who manages the pool may cancel it.
    "storage:volume_create": ("post", lambda o: {"pk": _pool(o).pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "storage:volume_upload": ("post", lambda o: {"pk": _pool(o).pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, BAD)),
    "storage:volume_action": (
        "post",
        lambda o: {"pk": _volume(o).pk, "action": "wipe"},
        row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "storage:volume_download": (
        "post",
        lambda o: {"pk": _volume(o).pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, REDIRECT, REDIRECT),
    ),
    "storage:transfer_chunk": (
        "post",
        lambda o: {"pk": _transfer(o, "volume.upload").pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, BAD),
    ),
    "storage:transfer_cancel": (
        "post",
        lambda o: {"pk": _transfer(o, "volume.upload").pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "storage:transfer_stream": (
        "get",
        lambda o: {"pk": _transfer(o, "volume.download", status="failed").pk},
        row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, 410),
    ),
}
for _area in (
    matrix_compute,
    matrix_create,
    matrix_devices,
    matrix_graphs,
    matrix_hosts,
    matrix_lifecycle,
    matrix_network,
    matrix_operations,
    matrix_overview,
    matrix_state,
):
    assert not set(_area.ROWS) & set(MATRIX), f"{_area.__name__} repeats a row"
    MATRIX.update(_area.ROWS)
WEBSOCKET_ROUTES = {"ws/live/", "ws/vms/<int:pk>/vnc/", "ws/vms/<int:pk>/serial/"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            yield from _walk(p.url_patterns, prefix + ns)
        elif isinstance(p, URLPattern):
            yield prefix + (p.name or f"<unnamed {p.pattern}>"), p.callback


def test_every_route_declares_its_permission_and_is_in_the_matrix():
    for name, callback in _walk(get_resolver().url_patterns):
        declared = getattr(callback, "kvm_permission", None) or getattr(callback, "kvm_public", False)
        if name in ("login", "logout", "home"):
            declared = True  # Django's own auth views and a redirect; public by nature
        assert declared, f"route {name} does not declare its permission (use accounts.decorators.needs)"
        assert name in MATRIX, f"route {name} is not in the route matrix: add the answer each role should get"
    assert {str(p.pattern) for p in websocket_urlpatterns} == WEBSOCKET_ROUTES


@pytest.fixture
def world(demo_host, viewer, operator, admin):
    vm, other_vm = make_vm(demo_host), make_vm(demo_host)
    vm_user, _ = user_create(actor=None, username="vic-vmuser", password=PASSWORD)
    grant_add(actor=None, user=vm_user, role="VM user", scope=other_vm)
    subject, _ = user_create(actor=None, username="sam-subject", password=PASSWORD)
    team = team_create(actor=None, name="blue")
    role = role_create(actor=None, name="Custom", permissions=["vm.view"])
    grant = grant_add(actor=None, user=subject, role="Viewer")
    users = {"anonymous": None, "viewer": viewer, "vm_user": vm_user, "operator": operator, "admin": admin}
    return {
        "vm": vm,
        "other_vm": other_vm,
        "subject": subject,
        "team": team,
        "role": role,
        "grant": grant,
        "users": users,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_the_right_answer(name, world, django_capture_on_commit_callbacks):
    method, kwargs, expected = MATRIX[name]
    url = reverse(name, kwargs=kwargs(world))
    got = {}
    for role, user in world["users"].items():
        client = Client()
        if user is not None:
            client.force_login(user)
        with django_capture_on_commit_callbacks(execute=False):
            response = getattr(client, method)(url, HTTP_HX_REQUEST="true")
        login_redirect = response.status_code == 302 and response["Location"].startswith(reverse("login"))
        got[role] = LOGIN if login_redirect else response.status_code
    assert got == expected, f"{method.upper()} {url}"
