"""Snapshots on the test driver (internal ones; it refuses disk-only): services, worker half, tab."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.compute.services import snapshots as services
from apps.compute.virt import domains, snapshots
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.conftest import PASSWORD
from tests.helpers import make_vm


@pytest.fixture
def queue_only(django_capture_on_commit_callbacks):
    """Services queue; the tests run the worker half themselves (no Celery here)."""
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _run(op):
    return operation_run(op.pk)


def _tree(vm):
    conn = connection.get(vm.host.uri)
    return [(s.name, s.parent, s.depth, s.current) for s in snapshots.list_snapshots(conn, str(vm.uuid))]


def _take(operator, vm, name, **kwargs):
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name=name, **kwargs))
    assert op.status == "succeeded", op.error
    return op


def test_snapshots_form_a_tree_with_the_current_one_marked(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    op = _take(operator, vm, "base", description="fresh install")
    assert op.message == f"internal snapshot base of {vm.name} taken"
    _take(operator, vm, "patched")
    assert _tree(vm) == [("base", "", 0, False), ("patched", "base", 1, True)]
    assert _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="base")).status == "succeeded"
    _take(operator, vm, "other")  # a second branch from base
    tree = _tree(vm)  # siblings come oldest first; libvirt's clock has whole seconds, so either order here
    assert tree[0] == ("base", "", 0, False)
    assert sorted(tree[1:]) == [("other", "base", 1, True), ("patched", "base", 1, False)]
    info = snapshots.list_snapshots(connection.get(demo_host.uri), str(vm.uuid))[0]
    assert info.description == "fresh install" and info.state == "shutoff" and info.created is not None
    actions = list(AuditEvent.objects.filter(target_id=str(vm.pk)).values_list("action", "outcome"))
    assert ("vm.snapshot_revert", "succeeded") in actions and actions.count(("vm.snapshot_create", "succeeded")) == 3


def test_a_running_vm_snapshot_keeps_its_memory_and_revert_brings_it_back(demo_host, operator, queue_only):
    vm = make_vm(demo_host, start=True)
    op = _take(operator, vm, "live")
    assert "with the guest's memory" in op.message
    conn = connection.get(demo_host.uri)
    domains.power(conn, str(vm.uuid), "destroy")
    op = _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="live"))
    assert op.status == "succeeded", op.error
    assert domains.domain_info(conn, str(vm.uuid)).state == "running"
    vm.refresh_from_db()
    assert vm.state == "running"  # the inventory follows at once


def test_delete_keeps_the_children(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    for name in ("a", "b", "c"):
        _take(operator, vm, name)
    op = _run(services.vm_snapshot_delete(actor=operator, vm=vm, name="b"))
    assert op.status == "succeeded", op.error
    assert _tree(vm) == [("a", "", 0, False), ("c", "a", 1, True)]


def test_what_libvirt_refuses_fails_the_operation_with_its_words(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    _take(operator, vm, "once")
    # A duplicate the page did not know about (taken in between): libvirt refuses it.
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="once"))
    assert op.status == "failed" and "once" in op.error and "exists" in op.error
    # The test driver has no disk-only snapshots; its refusal is shown as it is.
    op = _run(services.vm_snapshot_create(actor=operator, vm=vm, name="ext", external=True))
    assert op.status == "failed" and "unsupported flags" in op.error
    op = _run(services.vm_snapshot_revert(actor=operator, vm=vm, name="missing"))
    assert op.status == "failed" and "missing" in op.error
    assert [n for n, *_ in _tree(vm)] == ["once"]
    failed = AuditEvent.objects.filter(action="vm.snapshot_create", outcome="failed").count()
    assert failed == 2


@pytest.mark.parametrize(
    "name, words",
    [
        ("", "Give the snapshot a name"),
        ("a/b", "'/' or '..'"),
        ("..", "'/' or '..'"),
        ("x..y", "'/' or '..'"),
        ('say"hi', "letters, digits"),
        ("it's", "letters, digits"),
        ("two words", "letters, digits"),
        ("<b>", "letters, digits"),
        ("-flag", "starting with a letter or digit"),
        ("x" * 65, "at most 64"),
    ],
)
def test_bad_names_are_refused_before_anything_is_queued(demo_host, operator, name, words):
    vm = make_vm(demo_host)
    with pytest.raises(services.SnapshotError, match=None) as info:
        services.vm_snapshot_create(actor=operator, vm=vm, name=name)
    assert words in str(info.value)
    assert not Operation.objects.exists()


def test_a_known_duplicate_is_a_form_error(demo_host, operator):
    vm = make_vm(demo_host)
    with pytest.raises(services.SnapshotError, match="already has a snapshot named base"):
        services.vm_snapshot_create(actor=operator, vm=vm, name="base", existing={"base"})
    assert not Operation.objects.exists()


def test_viewer_may_not_snapshot_and_a_revoked_right_is_rechecked(demo_host, viewer, operator, queue_only):
    vm = make_vm(demo_host)
    with pytest.raises(PermissionDenied):
        services.vm_snapshot_create(actor=viewer, vm=vm, name="nope")
    op = services.vm_snapshot_create(actor=operator, vm=vm, name="later")
    operator.grants.all().delete()
    op = _run(op)
    assert op.status == "failed" and "may not" in op.error
    assert _tree(vm) == []


# -- the tab -------------------------------------------------------------------------------------


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_tab_shows_the_tree_and_the_forms_to_those_who_may(client, demo_host, operator, viewer, queue_only):
    vm = make_vm(demo_host)
    _take(operator, vm, "one", description="first <b>")
    _take(operator, vm, "two")
    url = reverse("compute:vm_snapshots", args=[vm.pk])
    html = _client(client, operator).get(url).content.decode()
    assert 'data-name="two" data-parent="one" data-depth="1"' in html
    assert html.count("snapshot-current") == 1 and "first &lt;b&gt;" in html
    assert "snapshot-create-form" in html and "Revert" in html
    client.logout()
    html = _client(client, viewer).get(url).content.decode()
    assert 'data-name="one"' in html and "snapshot-create-form" not in html and "Revert" not in html


def test_create_form_errors_and_queueing(client, demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    _take(operator, vm, "base")
    c = _client(client, operator)
    url = reverse("compute:vm_snapshot_create", args=[vm.pk])
    for bad, words in (("../etc", "&#x27;/&#x27; or &#x27;..&#x27;"), ("base", "already has a snapshot named base")):
        response = c.post(url, {"name": bad, "kind": "internal"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and words in response.content.decode()
        assert f'value="{bad}"' in response.content.decode()  # the text is kept
    assert not Operation.objects.filter(kind="vm.snapshot_create", status="queued").exists()
    response = c.post(url, {"name": "next", "description": "d", "kind": "external"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "queued as operation" in response.content.decode()
    op = Operation.objects.get(kind="vm.snapshot_create", status="queued")
    assert op.params == {"op": "create", "name": "next", "description": "d", "external": True}


def test_revert_and_delete_answer_no_content_and_queue(client, demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    c = _client(client, operator)
    for action in ("revert", "delete"):
        url = reverse(f"compute:vm_snapshot_{action}", args=[vm.pk])
        assert c.post(url, {"name": "s1"}, HTTP_HX_REQUEST="true").status_code == 204
        assert c.post(url, {"name": "a/b"}, HTTP_HX_REQUEST="true").status_code == 400
        assert Operation.objects.filter(kind=f"vm.snapshot_{action}", params__name="s1").exists()
