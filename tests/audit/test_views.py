"""The audit page: filters, keyset pages, visibility, exports, the Activity partial, query budget."""

import csv
import io
import json

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.audit.models import AuditEvent
from apps.audit.services import record
from apps.core import context
from apps.hosts.services import host_create

from .conftest import Target

ACTIONS = ["vm.start", "vm.shutdown", "vm.reboot", "auth.denied"]
OUTCOMES = ["requested", "succeeded", "failed", "denied"]
SECRET = "hunter2-do-not-show"


@pytest.fixture
def other_host(db):
    return host_create(actor=None, name="other", uri="test:///default")


@pytest.fixture
def log(demo_host, other_host, admin, viewer):
    """120 records about VMs on two hosts, by two users and the system, from two addresses."""
    made = []
    for i in range(120):
        host = demo_host if i % 2 else other_host
        vm = Target("vm", 1000 + i % 6, f"web-{i % 6}{'-db' if i % 5 == 0 else ''}", host)
        actor = [admin, viewer, None][i % 3]
        ip = "10.0.0.7" if i % 4 == 0 else "192.0.2.1"
        token = context.use(context.RequestContext(f"req-{i}", ip, "pytest"))
        try:
            error = "disk full on /var/lib" if i % 10 == 3 else ""
            params = {"n": i, "password": SECRET, "opts": {"api_token": SECRET, "mode": f"m{i % 3}"}}
            made.append(record(ACTIONS[i % 4], OUTCOMES[i % 4], actor=actor, target=vm, params=params, error=error))
        finally:
            context.reset(token)
    return made


def _ids(response):
    return [e.pk for e in response.context["page"].rows]


def _get(client, who, **params):
    client.force_login(who)
    return client.get(reverse("audit:event_list"), params)


def test_the_newest_page_is_the_newest_fifty_with_the_live_tail(client, admin, log):
    response = _get(client, admin)
    expected = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:50])
    assert _ids(response) == expected
    html = response.content.decode()
    assert 'id="audit-live-rows"' in html and "<html" in html
    assert SECRET not in html and "password</span>=***" in html


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"action": "vm.reboot"}, lambda e: e.action == "vm.reboot"),
        ({"outcome": "failed"}, lambda e: e.outcome == "failed"),
        ({"user": "vera-viewer"}, lambda e: e.actor_name == "vera-viewer"),
        ({"user": "system", "action": "vm.start"}, lambda e: e.actor_name == "" and e.action == "vm.start"),
        ({"host": "demo"}, lambda e: e.host_name == "demo"),
        ({"target_type": "vm", "target": "-DB"}, lambda e: e.target_type == "vm" and "-db" in e.target_name),
        ({"q": "disk full"}, lambda e: "disk full" in e.error),
        ({"q": "web-4 no-such-word"}, None),
        (
            {"q": "m1 web-4"},
            lambda e: e.params.get("opts", {}).get("mode") == "m1" and e.target_name.startswith("web-4"),
        ),
    ],
)
def test_filters_return_exactly_the_matching_rows(client, admin, log, params, predicate):
    response = _get(client, admin, **params)
    assert response.status_code == 200
    expected = [e.pk for e in reversed(log) if predicate and predicate(e)][:50]
    assert _ids(response) == expected
    assert 'id="audit-live-rows"' not in response.content.decode()


def test_host_filter_takes_an_id_and_target_id_narrows_to_one_object(client, admin, log, other_host):
    rows = _ids(_get(client, admin, host=str(other_host.pk), target_type="vm", target_id="1002"))
    assert rows == [e.pk for e in reversed(log) if e.host_id == other_host.pk and e.target_id == "1002"]


def test_time_range_is_inclusive_at_the_precision_given(client, admin, log):
    since, until = log[30].time.isoformat(), log[59].time.isoformat()
    assert _ids(_get(client, admin, since=since, until=until)) == [e.pk for e in reversed(log[30:60])]
    assert _ids(_get(client, admin, since=since, until=until, action="vm.start")) == [
        e.pk for e in reversed(log[30:60]) if e.action == "vm.start"
    ]
    assert _ids(_get(client, admin, since="2000-01-01", until="2000-01-02")) == []


def test_invalid_filters_are_reported_not_guessed(client, admin, log):
    response = _get(client, admin, action="vm.explode")
    assert response.context["page"] is None
    assert "Select a valid choice" in response.content.decode()


def test_keyset_pages_walk_the_whole_filtered_set_without_gaps(client, admin, log):
    expected = list(AuditEvent.objects.filter(host_name="demo").order_by("-id").values_list("id", flat=True))
    assert len(expected) == 61  # 60 about its VMs, and its creation
    pages, params = [], {"host": "demo"}
    while True:
        page = _get(client, admin, **params).context["page"]
        pages.append([e.pk for e in page.rows])
        if not page.has_older:
            break
        params = {"host": "demo", "before": page.older_cursor}
    assert [len(p) for p in pages] == [50, 11]
    assert sum(pages, []) == expected
    back = _get(client, admin, host="demo", after=pages[1][0]).context["page"]
    assert [e.pk for e in back.rows] == pages[0] and back.is_newest


def test_paging_newer_from_deep_gives_full_pages(client, admin, log):
    ids = [e.pk for e in reversed(log)]
    page = _get(client, admin, after=ids[110]).context["page"]  # 50 newer than the 111th newest
    assert [e.pk for e in page.rows] == ids[60:110] and page.has_newer and page.has_older


def test_htmx_gets_the_table_partial_with_links_that_keep_the_filters(client, admin, log):
    client.force_login(admin)
    response = client.get(reverse("audit:event_list"), {"host": "demo"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-table">') and "<html" not in html
    assert "/audit/export.csv?host=demo" in html and "/audit/export.jsonl?host=demo" in html
    assert "host=demo&amp;before=" in html


def test_the_filter_form_drives_the_table_with_htmx(client, admin, log):
    html = _get(client, admin).content.decode()
    assert 'hx-get="/audit/"' in html and 'hx-target="#audit-table"' in html and 'hx-push-url="true"' in html
    assert '<option value="vm.start">' in html


def test_the_page_costs_a_constant_number_of_queries(client, admin, outsider, other_host, log):
    grant_add(actor=None, user=outsider, role="Viewer", scope=other_host)
    for user, budget in ((admin, 6), (outsider, 25)):
        client.force_login(user)
        counts = []
        for params in ({}, {"action": "vm.start", "host": "other"}):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("audit:event_list"), params)
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1] <= budget, (user, counts)


def test_the_page_with_50_rows_stays_within_budget(client, admin, log, django_assert_max_num_queries):
    client.force_login(admin)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("audit:event_list"))
    assert len(response.context["page"].rows) == 50


# -- visibility ------------------------------------------------------------------------------------


def test_a_user_sees_only_events_about_hosts_they_may_view(client, outsider, other_host, log):
    assert {e.actor_id for e in _get(client, outsider).context["page"].rows} == {outsider.pk}  # own logins only
    grant_add(actor=None, user=outsider, role="Viewer", scope=other_host)
    record("auth.denied", "denied", actor=outsider)
    expected = AuditEvent.objects.filter(Q(host_id=other_host.pk) | Q(actor=outsider)).order_by("-id")
    expected = list(expected.values_list("id", flat=True))
    seen, params = [], {}
    while True:
        page = client.get(reverse("audit:event_list"), params).context["page"]
        seen += [e.pk for e in page.rows]
        if not page.has_older:
            break
        params = {"before": page.older_cursor}
    assert seen == expected
    assert not AuditEvent.objects.filter(pk__in=seen, host_name="demo").exists()


def test_a_global_viewer_does_not_read_account_events(client, viewer, log):
    rows = _get(client, viewer, target_type="user").context["page"].rows
    assert rows and {e.actor_id for e in rows} == {viewer.pk}  # their own logins, nobody else's
    assert AuditEvent.objects.filter(target_type="user").exists()


def test_an_auditor_reads_everything(client, outsider, log):
    grant_add(actor=None, user=outsider, role="Auditor")
    assert (
        len(_ids(_get(client, outsider, target_type="user"))) == AuditEvent.objects.filter(target_type="user").count()
    )


# -- export ----------------------------------------------------------------------------------------


def _export(client, user, fmt, **params):
    client.force_login(user)
    response = client.get(reverse(f"audit:export_{fmt}"), params)
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content).decode()


def test_csv_export_is_exactly_the_filtered_set(client, admin, log):
    body = _export(client, admin, "csv", host="other", outcome="requested")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["id"]) for r in rows] == [e.pk for e in log if e.host_name == "other" and e.outcome == "requested"]
    assert SECRET not in body
    assert json.loads(rows[0]["params"])["opts"]["api_token"] == "***"
    assert {r["hash"] for r in rows} == {e.hash for e in log if e.host_name == "other" and e.outcome == "requested"}
    marker = AuditEvent.objects.filter(action="audit.export").get()
    assert marker.params == {"format": "csv", "filters": {"host": "other", "outcome": "requested"}}
    assert marker.actor_id == admin.pk


def test_jsonl_export_is_exactly_the_filtered_set_and_verifiable(client, admin, log):
    from apps.audit import chain

    body = _export(client, admin, "jsonl", q="disk full")
    rows = [json.loads(line) for line in body.splitlines()]
    assert [r["id"] for r in rows] == [e.pk for e in log if "disk full" in e.error]
    assert all(chain.row_hash(r["prev_hash"], r) == r["hash"] for r in rows)
    assert SECRET not in body


def test_an_export_holds_only_what_the_user_may_see(client, outsider, other_host, log):
    grant_add(actor=None, user=outsider, role="Viewer", scope=other_host)
    rows = [json.loads(line) for line in _export(client, outsider, "jsonl").splitlines()]
    assert rows and {r["host_name"] for r in rows if r["actor_id"] != outsider.pk} == {"other"}


def test_an_export_with_invalid_filters_is_refused(client, admin, log):
    client.force_login(admin)
    assert client.get(reverse("audit:export_csv"), {"outcome": "maybe"}).status_code == 400


def test_csv_cells_that_look_like_formulas_are_defused(client, admin, demo_host):
    record("auth.denied", "denied", target=Target("vm", 1, "=HYPERLINK(1)", demo_host))
    rows = list(csv.DictReader(io.StringIO(_export(client, admin, "csv"))))
    assert "'=HYPERLINK(1)" in [r["target_name"] for r in rows]


# -- activity --------------------------------------------------------------------------------------


def test_activity_shows_the_latest_twenty_about_one_object(client, admin, log):
    client.force_login(admin)
    response = client.get(reverse("audit:activity", args=["vm", "1003"]))
    expected = [e.pk for e in reversed(log) if e.target_id == "1003"][:20]
    assert [e.pk for e in response.context["events"]] == expected
    assert 'id="activity-rows-vm-1003"' in response.content.decode()


def test_activity_is_filtered_by_visibility(client, outsider, log):
    client.force_login(outsider)
    response = client.get(reverse("audit:activity", args=["vm", "1003"]))
    assert response.context["events"] == [] and "No recorded activity" in response.content.decode()


def test_the_vm_page_loads_its_activity(client, admin, demo_host):
    from tests.helpers import make_vm

    vm = make_vm(demo_host)
    client.force_login(admin)
    html = client.get(reverse("compute:vm_detail", args=[vm.pk])).content.decode()
    assert f'hx-get="/audit/activity/vm/{vm.pk}/"' in html and 'hx-trigger="load' in html
