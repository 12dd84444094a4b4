"""The task center (/operations/), an operation's page with its step log, failures marked until
seen, and Cancel: what each user sees, filters, keyset pages, through the Django test client."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import grant_add, user_create
from apps.compute.services import vm_power
from apps.operations import filters
from apps.operations.models import Operation, OperationStep
from apps.operations.services import operation_run
from apps.operations.steps import operation_step
from tests.conftest import PASSWORD
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db

LIST = reverse("operations:operation_list")


def _op(host, actor=None, *, kind="vm.start", status="succeeded", target_name="web1", target_id="1", **fields):
    """An operation row as the services leave one (its work is not the point here)."""
    now = timezone.now()
    return Operation.objects.create(
        kind=kind,
        status=status,
        actor=actor,
        actor_name=actor.username if actor else "",
        target_type=fields.pop("target_type", "vm"),
        target_id=target_id,
        target_name=target_name,
        host_id=host.pk if host else None,
        host_name=host.name if host else "",
        started_at=fields.pop("started_at", None if status == "queued" else now),
        finished_at=fields.pop("finished_at", now if status in ("succeeded", "failed", "cancelled") else None),
        **fields,
    )


def _ids(body):
    return [int(pk) for pk in re.findall(r'id="tc-op-(\d+)"', body)]


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_the_page_shows_each_operation_in_plain_words(client, demo_host, operator, admin):
    vm = make_vm(demo_host)
    op = vm_power(actor=admin, vm=vm, action="reboot")
    Operation.objects.filter(pk=op.pk).update(
        status="failed",
        started_at=op.created_at + timedelta(seconds=1),
        finished_at=op.created_at + timedelta(seconds=13),
        error="Requested operation is not valid: domain is not running\nsecond line of detail",
    )
    _login(client, operator)
    body = client.get(LIST).content.decode()
    row = body[body.index(f'id="tc-op-{op.pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">Reboot</a>" in row and reverse("operations:operation_detail", args=[op.pk]) in row
    assert f'href="{reverse("compute:vm_detail", args=[vm.pk])}">{vm.name}</a>' in row
    assert "alice-admin" in row and ">demo<" in row and ">failed</span>" in row
    assert "12 s" in row  # started to finished
    assert (
        "domain is not running" in row and "second line of detail</td>" not in row
    )  # the first line, all in the title
    assert 'title="Requested operation is not valid: domain is not running' in row


def test_each_user_sees_only_the_operations_they_may(client, demo_host, operator, admin, viewer):
    vm, other_vm = make_vm(demo_host), make_vm(demo_host)
    vm_user, _ = user_create(actor=None, username="vic-vmuser", password=PASSWORD)
    grant_add(actor=None, user=vm_user, role="VM user", scope=vm)
    on_vm = _op(demo_host, admin, target_id=str(vm.pk), target_name=vm.name)
    on_other = _op(demo_host, admin, target_id=str(other_vm.pk), target_name=other_vm.name)
    own = _op(demo_host, vm_user, target_id=str(other_vm.pk), target_name=other_vm.name, status="failed")
    elsewhere = _op(None, operator, kind="host.remove", target_type="host", target_id="999", target_name="gone")

    _login(client, viewer)  # operation.view everywhere
    assert set(_ids(client.get(LIST).content.decode())) == {on_vm.pk, on_other.pk, own.pk, elsewhere.pk}

    client.logout()
    _login(client, vm_user)  # operation.view on one VM, and their own work
    assert set(_ids(client.get(LIST).content.decode())) == {on_vm.pk, own.pk}
    assert client.get(reverse("operations:operation_detail", args=[on_other.pk])).status_code == 404
    assert client.get(reverse("operations:operation_detail", args=[on_vm.pk])).status_code == 200

    client.logout()
    outsider, _ = user_create(actor=None, username="olga-nothing", password=PASSWORD)
    _login(client, outsider)
    body = client.get(LIST).content.decode()
    assert _ids(body) == [] and "No operations." in body
    assert client.get(reverse("operations:operation_detail", args=[own.pk])).status_code == 404


def test_filters(client, demo_host, operator, admin):
    other_host = type(demo_host).objects.create(name="hv2", uri="test:///unused-by-this-test")
    mine_failed = _op(demo_host, operator, status="failed", error="no", target_name="db-primary")
    mine_ok = _op(demo_host, operator, kind="vm.shutdown", target_name="web-1")
    theirs = _op(other_host, admin, kind="vm.clone", status="running", target_name="DB-replica")
    old = _op(demo_host, admin, target_name="archive")
    Operation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    _login(client, operator)

    def shown(**params):
        response = client.get(LIST, params)
        assert response.status_code == 200
        return set(_ids(response.content.decode()))

    everything = {mine_failed.pk, mine_ok.pk, theirs.pk, old.pk}
    assert shown() == everything
    assert shown(mine="1") == {mine_failed.pk, mine_ok.pk}
    assert shown(status="failed") == {mine_failed.pk}
    assert shown(kind="vm.clone") == {theirs.pk}
    assert shown(host="hv2") == {theirs.pk} == shown(host=str(other_host.pk))
    assert shown(target="db-") == {mine_failed.pk, theirs.pk}  # part of a name, any case
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert shown(since=yesterday) == everything - {old.pk}
    assert shown(until=yesterday) == {old.pk}
    assert shown(until=(timezone.localtime() - timedelta(days=3)).date().isoformat()) == {old.pk}  # a whole day
    assert shown(mine="1", status="succeeded", kind="vm.shutdown", target="web") == {mine_ok.pk}
    body = client.get(LIST, {"status": "nonsense"}).content.decode()
    assert "Fix the filters above." in body


def test_keyset_pages_walk_every_row_once_even_with_equal_times(client, demo_host, operator):
    ops = [_op(demo_host, operator, target_name=f"vm-{i}") for i in range(2 * filters.PAGE_SIZE + 7)]
    # Three clusters of operations queued in the same microsecond: the id tells them apart.
    same = timezone.now() - timedelta(hours=1)
    Operation.objects.filter(pk__in=[o.pk for o in ops[10:70]]).update(created_at=same)
    Operation.objects.filter(pk__in=[o.pk for o in ops[70:75]]).update(created_at=same - timedelta(microseconds=1))
    expected = list(Operation.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    _login(client, operator)

    seen, pages, url = [], [], LIST
    while url:
        response = client.get(url)
        page = response.context["page"]
        pages.append(page)
        seen += [op.pk for op in page.rows]
        url = f"{LIST}?before={page.older_cursor}" if page.has_older else None
    assert seen == expected
    assert [len(p.rows) for p in pages] == [50, 50, 7]
    assert pages[0].is_newest and not pages[0].has_newer and pages[-1].has_newer

    # And back: "Newer" from the last page gives the middle one, then the newest.
    back = client.get(LIST, {"after": pages[-1].newer_cursor}).context["page"]
    assert [op.pk for op in back.rows] == [op.pk for op in pages[1].rows] and back.has_newer
    newest = client.get(LIST, {"after": back.newer_cursor}).context["page"]
    assert [op.pk for op in newest.rows] == [op.pk for op in pages[0].rows] and newest.is_newest

    # The links carry the cursor and the filters; a hand-edited cursor gives the newest page.
    body = client.get(LIST, {"mine": "1"}).content.decode()
    assert f"?mine=1&amp;before={pages[0].older_cursor}" in body
    assert client.get(LIST, {"before": "yesterday"}).context["page"].is_newest


def test_the_query_count_does_not_grow_with_the_rows(client, demo_host, operator, admin):
    _login(client, operator)
    _op(demo_host, admin, status="queued")
    client.get(LIST)  # the session and rights, warmed
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for i in range(60):
        _op(demo_host, admin if i % 2 else operator, status=["queued", "running", "failed", "succeeded"][i % 4])
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few) <= 8, [q["sql"][:120] for q in many.captured_queries]


def test_an_htmx_request_gets_only_the_table(client, demo_host, operator):
    _op(demo_host, operator)
    _login(client, operator)
    body = client.get(LIST, {"status": "succeeded"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="tc-table"') and "<html" not in body
    assert 'hx-get="/operations/?status=succeeded"' in body  # its live re-read keeps the filters


def test_the_operation_page_shows_its_steps_in_order_and_its_audit_rows(client, demo_host, admin):
    vm = make_vm(demo_host)
    op = vm_power(actor=admin, vm=vm, action="start")
    operation_run(op.pk)
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    _login(client, admin)
    body = client.get(reverse("operations:operation_detail", args=[op.pk])).content.decode()
    steps = re.findall(r'<span class="op-step-text">([^<]*)</span>', body)
    assert len(steps) == 3, steps
    assert steps[0].startswith("Started on ")
    assert steps[1] == f"Checked: {vm.name} exists and alice-admin still holds vm.power."
    assert steps[2].startswith("Succeeded")
    offsets = [float(t) for t in re.findall(r'class="op-step-offset[^>]*>([+-][\d.]+) s<', body)]
    assert offsets == sorted(offsets) and offsets[0] >= 0
    assert body.count("Started VM") == 2  # the audit rows: requested, and how it ended


def test_a_refused_operation_logs_why(client, demo_host, admin, operator):
    from apps.accounts.services import user_update

    vm = make_vm(demo_host)
    op = vm_power(actor=operator, vm=vm, action="start")
    user_update(actor=admin, user=operator, is_active=False)
    operation_run(op.pk)
    texts = list(OperationStep.objects.filter(operation=op).values_list("level", "text"))
    assert texts[1] == (
        "error",
        "Refused before starting: The user who asked for this (oscar-operator) has been deactivated.",
    )
    assert texts[-1][0] == "error" and texts[-1][1].startswith("Failed: ")


def test_a_step_that_cannot_be_written_does_not_break_the_runner(demo_host, admin):
    op = _op(demo_host, admin, status="running")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # so the missing row fails the insert itself
        ghost = Operation(pk=op.pk + 10_000, host_id=None)  # no such operation
        assert operation_step(ghost, "nowhere") is None
        # The runner's own transaction goes on.
        assert operation_step(op, "x" * 600, level="shouting").text == "x" * 500
    assert list(OperationStep.objects.values_list("level", flat=True)) == ["info"]


def test_own_failures_stay_marked_until_seen(client, demo_host, operator, admin):
    first = _op(demo_host, operator, status="failed", error="disk full")
    second = _op(demo_host, operator, status="failed", error="no route")
    lost = _op(demo_host, operator, status="lost", error="The worker running this operation was lost.")
    _op(demo_host, admin, status="failed", error="not mine")
    _op(demo_host, operator, status="succeeded")
    _login(client, operator)

    def badge():
        body = client.get(reverse("operations:panel"), HTTP_HX_REQUEST="true").content.decode()
        found = re.search(r'class="ops-unseen" hx-swap-oob="outerHTML:.ops-unseen">(.*?)</span>\s', body, re.S)
        count = re.search(r">(\d+)<span", found.group(1))
        return int(count.group(1)) if count else 0

    assert badge() == 3  # a lost run failed too
    body = client.get(LIST).content.decode()
    assert "3 of your operations failed since you last looked." in body
    assert f"{LIST}?mine=1&amp;status=failed" in body

    client.get(reverse("operations:operation_detail", args=[first.pk]))
    assert badge() == 2
    client.get(LIST)  # all of them, unfiltered: not "seen" yet
    assert badge() == 2
    body = client.get(LIST, {"mine": "1", "status": "failed"}).content.decode()
    assert set(_ids(body)) == {first.pk, second.pk, lost.pk} and "since you last looked" not in body
    assert badge() == 0

    client.logout()
    _login(client, admin)  # someone else's page does not mark operator's failures
    client.get(reverse("operations:operation_detail", args=[second.pk]))
    assert badge() == 1


def test_cancel_a_queued_operation(client, demo_host, operator, admin, viewer):
    vm = make_vm(demo_host)
    theirs = vm_power(actor=admin, vm=vm, action="start")
    mine = vm_power(actor=operator, vm=vm, action="shutdown")
    url = lambda op: reverse("operations:operation_cancel", args=[op.pk])  # noqa: E731

    _login(client, viewer)  # sees it, may not power the VM
    body = client.get(LIST).content.decode()
    assert "op-cancel" not in body
    assert client.post(url(theirs), HTTP_HX_REQUEST="true").status_code == 403
    client.logout()

    _login(client, operator)
    body = client.get(LIST).content.decode()
    assert body.count('class="btn btn-sm btn-outline-danger py-0 op-cancel"') == 2
    answer = client.post(url(theirs), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "Cancelled." in answer.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == "cancelled" and theirs.error == "Cancelled by oscar-operator before it started."
    assert "Already cancelled." in client.post(url(theirs), HTTP_HX_REQUEST="true").content.decode()
    assert client.post(url(mine)).status_code == 302  # without htmx: back to its page
    assert [s.text for s in OperationStep.objects.filter(operation=theirs)] == [
        "Cancelled: Cancelled by oscar-operator before it started."
    ]


def test_no_cancel_for_running_work_that_cannot_stop(client, demo_host, operator):
    running = _op(demo_host, operator, kind="vm.start", status="running")
    _login(client, operator)
    assert "op-cancel" not in client.get(LIST).content.decode()
    answer = client.post(reverse("operations:operation_cancel", args=[running.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 409 and "cannot be stopped midway" in answer.content.decode()
    running.refresh_from_db()
    assert running.status == "running"


def test_cancel_running_work_whose_runner_stops_for_it(client, demo_host, operator, admin, monkeypatch):
    from apps.operations import runners
    from apps.operations.services import operation_cancel_requested

    class Cancellable:
        """The clone's runner, declaring that it stops for a cancel (as a runner does with
        @runner(..., cancellable=True))."""

        cancellable = True

        def __init__(self, runner):
            self.runner = runner

        def __getattr__(self, name):
            return getattr(self.runner, name)

    monkeypatch.setitem(runners._runners, "vm.clone", Cancellable(runners.get("vm.clone")))
    running = _op(demo_host, admin, kind="vm.clone", status="running")
    _login(client, operator)
    assert f'hx-post="{reverse("operations:operation_cancel", args=[running.pk])}"' in client.get(LIST).content.decode()
    answer = client.post(reverse("operations:operation_cancel", args=[running.pk]), HTTP_HX_REQUEST="true")
    assert "Cancel requested." in answer.content.decode()
    assert operation_cancel_requested(running) == "oscar-operator"
    row = client.get(LIST).content.decode()
    assert 'title="asked by oscar-operator">Cancel requested</span>' in row and 'op-cancel"' not in row
    running.refresh_from_db()
    assert running.status == "running"  # until its runner sees the request
