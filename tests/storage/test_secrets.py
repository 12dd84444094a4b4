"""libvirt secrets: define, set value, delete — and the value never seen again anywhere.

libvirt's test driver has no secret driver ("this function is not supported by the connection
driver: virConnectListAllSecrets"), so the libvirt half runs against the real qemu:///system and
is skipped, with the reason printed, where that does not answer. Every secret a test defines
carries TAG in its usage id and is undefined afterwards.
"""

import base64
import json
import logging
import os
import re
import uuid
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.errors import VirtError
from apps.hosts.models import Host
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from apps.operations import handoff
from apps.operations import services as operations_services
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import Secret
from apps.storage.services import secrets as services
from apps.storage.virt import secrets as secret_virt
from apps.storage.virt.secret_xml import SecretSpec
from tests.helpers import unavailable, unique, wait_for

pytestmark = pytest.mark.django_db
QEMU_URI = "qemu:///system"
TAG = f"kvmweb-test-{uuid.uuid4().hex[:8]}"
CEPH_KEY = base64.b64encode(b"\x01\x00" + os.urandom(38)).decode()  # shaped like `ceph auth get-key`
PASSPHRASE = f"horse-battery-{uuid.uuid4().hex}"


def _needles(value):
    """The forms a leaked value could take: as typed, decoded, hex, and base64 of the typed text."""
    forms = {value, base64.b64encode(value.encode()).decode()}
    try:
        raw = base64.b64decode(value, validate=True)
        forms |= {raw.hex(), repr(raw)[2:-1]}
    except ValueError:
        pass
    return forms


def assert_absent(value, text, where):
    for needle in _needles(value):
        assert needle not in text, f"the value leaked into {where}"


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def _pending_values():
    return _redis().keys(handoff.VALUE_PREFIX + "*")


def _table_text(model):
    """Every column of every row, as text (JSON params included)."""
    return str(list(model.objects.values()))


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qemu_conn():
    try:
        conn = connection.get(QEMU_URI)
        supported = secret_virt.list_secrets(conn) is not None
    except VirtError as exc:
        reason = f"qemu:///system does not answer here ({exc}); the test driver has no secrets"
        unavailable(reason)
    if not supported:
        unavailable("qemu:///system has no secret driver")
    return conn


def _remove_tagged(conn):
    for info in secret_virt.list_secrets(conn) or []:
        if TAG in info.usage_id:
            secret_virt.undefine_quietly(conn, info.uuid)


@pytest.fixture
def qemu_host(qemu_conn):
    host = host_create(actor=None, name=unique("local"), uri=QEMU_URI)
    yield host
    _remove_tagged(qemu_conn)


@pytest.fixture
def offline_host(db):
    """A host row nobody connects to, for what is decided before libvirt is asked."""
    return Host.objects.create(name=unique("offline"), uri=QEMU_URI)


@pytest.fixture
def sent(monkeypatch):
    """What operation_queue hands Celery, recorded instead of sent (test_the_broker_message… sends)."""
    calls = []

    def send_task(name, *args, **kwargs):
        calls.append({"task": name, "args": args, "kwargs": kwargs})
        return SimpleNamespace(id=f"recorded-{len(calls)}")

    monkeypatch.setattr(operations_services.current_app, "send_task", send_task)
    return calls


@pytest.fixture
def queue_and_run(sent, django_capture_on_commit_callbacks):
    """Queue through a service (commit callbacks run: the value goes to Redis, the task is
    recorded), then run the worker half in this process."""

    def go(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            op = service(**kwargs)
        return operation_run(op.pk)

    return go


# -- XML ---------------------------------------------------------------------------------------

GOLDEN = {
    "ceph": """<secret ephemeral="no" private="yes">
  <description>RBD pool key</description>
  <usage type="ceph">
    <name>client.libvirt secret</name>
  </usage>
</secret>
""",
    "iscsi": """<secret ephemeral="no" private="yes">
  <usage type="iscsi">
    <target>libvirtiscsi</target>
  </usage>
</secret>
""",
    "volume": """<secret ephemeral="no" private="yes">
  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>
  <usage type="volume">
    <volume>/var/lib/libvirt/images/luks.img</volume>
  </usage>
</secret>
""",
    "tls": """<secret ephemeral="no" private="yes">
  <description>&lt;TLS&gt; &amp; "quotes"</description>
  <usage type="tls">
    <name>TLS_example</name>
  </usage>
</secret>
""",
}
SPECS = {
    "ceph": SecretSpec("ceph", "client.libvirt secret", "RBD pool key"),
    "iscsi": SecretSpec("iscsi", "libvirtiscsi"),
    "volume": SecretSpec("volume", "/var/lib/libvirt/images/luks.img", uuid="0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"),
    "tls": SecretSpec("tls", "TLS_example", '<TLS> & "quotes"'),
}


@pytest.mark.parametrize("usage", sorted(GOLDEN))
def test_secret_xml_matches_the_golden_text(usage):
    assert SPECS[usage].to_xml() == GOLDEN[usage]


@pytest.mark.parametrize("usage", sorted(GOLDEN))
def test_libvirt_reads_back_what_the_xml_says(qemu_conn, usage):
    spec = SPECS[usage]
    usage_id = f"/tmp/{TAG}-{usage}.img" if usage == "volume" else f"{TAG}-{usage}"
    probe = SecretSpec(usage, usage_id, spec.description)
    secret_uuid = secret_virt.define(qemu_conn, probe.to_xml())
    try:
        info = secret_virt.secret_info(qemu_conn, secret_uuid)
        assert (info.usage_type, info.usage_id, info.description) == (usage, usage_id, spec.description)
        assert info.private is True and info.value_set is None
    finally:
        secret_virt.undefine_quietly(qemu_conn, secret_uuid)


# -- define, set value, delete -----------------------------------------------------------------


def _audit(op):
    return list(AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("action", "outcome", "params"))


def test_define_set_value_and_delete_through_the_services(qemu_host, qemu_conn, operator, queue_and_run):
    usage_id = f"{TAG}-iqn"
    op = queue_and_run(
        services.secret_define,
        actor=operator,
        host=qemu_host,
        usage_type="iscsi",
        usage_id=usage_id,
        description="CHAP for the SAN",
    )
    assert op.status == "succeeded", op.error
    secret = Secret.objects.get(pk=int(op.target_id))
    assert (secret.usage_type, secret.usage_id, secret.has_value, secret.present) == ("iscsi", usage_id, False, True)
    info = secret_virt.secret_info(qemu_conn, str(secret.uuid))
    assert info.private is True, "the dashboard defines private secrets: libvirt never hands their value back"
    params = {"usage_type": "iscsi", "usage_id": usage_id, "description": "CHAP for the SAN", "value": "not set"}
    assert _audit(op) == [("secret.define", "requested", params), ("secret.define", "succeeded", params)]

    op = queue_and_run(
        services.secret_set_value, actor=operator, secret=secret, value=PASSPHRASE
    )
    assert op.status == "succeeded", op.error
    secret.refresh_from_db()
    assert secret.has_value is True
    assert [a[2] for a in _audit(op)] == [{"value": "set", "value_key": "***"}] * 2

    op = queue_and_run(services.secret_delete, actor=operator, secret=secret)
    assert op.status == "succeeded", op.error
    secret.refresh_from_db()
    assert secret.present is False
    assert secret_virt.secret_info(qemu_conn, str(secret.uuid)) is None
    assert _pending_values() == []


def test_the_value_is_never_stored_logged_sent_or_shown(
    qemu_host, qemu_conn, operator, sent, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(db_connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            op = services.secret_define(
                actor=operator, host=qemu_host, usage_type="ceph", usage_id=f"{TAG}-client", value=CEPH_KEY
            )
        assert len(_pending_values()) == 1, "the value waits in Redis, under a one-time key"
        op = operation_run(op.pk)
        assert op.status == "succeeded", op.error
        secret = Secret.objects.get(pk=int(op.target_id))
        assert secret.has_value is True
        with django_capture_on_commit_callbacks(execute=True):
            op2 = services.secret_set_value(actor=operator, secret=secret, value=CEPH_KEY)
        assert operation_run(op2.pk).status == "succeeded"

    assert _pending_values() == [], "the worker took the value with GETDEL"
    assert_absent(CEPH_KEY, _table_text(AuditEvent), "the audit log")
    assert_absent(CEPH_KEY, _table_text(Operation), "the operations table")
    assert_absent(CEPH_KEY, " ".join(q["sql"] for q in queries.captured_queries), "an SQL statement")
    assert [(c["task"], c["args"], c["kwargs"]) for c in sent] == [
        ("operations.run", (), {"args": [op.pk], "queue": qemu_host.queue}),
        ("operations.run", (), {"args": [op2.pk], "queue": qemu_host.queue}),
    ], "the Celery message carries the operation id only"
    assert_absent(CEPH_KEY, caplog.text, "the logs")
    assert AuditEvent.objects.filter(operation_id=op2.pk, outcome="succeeded").get().params == {
        "value": "set",
        "value_key": "***",
    }

    client = Client()
    client.force_login(operator)
    for url in (
        reverse("storage:secret_list"),
        reverse("storage:secret_detail", args=[secret.pk]),
        reverse("storage:secret_set_value", args=[secret.pk]),
        reverse("audit:event_list"),
    ):
        page = client.get(url).content.decode()
        assert_absent(CEPH_KEY, page, url)
    assert f"{TAG}-client" in client.get(reverse("storage:secret_list")).content.decode()


def test_the_broker_message_holds_the_operation_id_only(offline_host, operator, django_capture_on_commit_callbacks):
    """The real send: read the message Celery left in the host's Redis queue (no worker consumes it)."""
    secret = Secret.objects.create(host=offline_host, uuid=uuid.uuid4(), usage_type="ceph", usage_id=f"{TAG}-b")
    r = _redis()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            op = services.secret_set_value(actor=operator, secret=secret, value=CEPH_KEY)
        messages = r.lrange(offline_host.queue, 0, -1)
        assert len(messages) == 1
        assert_absent(CEPH_KEY, messages[0].decode(), "the Celery message")
        args, kwargs, _embed = json.loads(base64.b64decode(json.loads(messages[0])["body"]))
        assert (args, kwargs) == ([op.pk], {})
        assert op.params["value_key"] not in messages[0].decode(), "even the one-time key stays out of the message"
    finally:
        r.delete(offline_host.queue, *_pending_values())


def test_a_rolled_back_request_leaves_no_value_in_redis(
    offline_host, operator, sent, django_capture_on_commit_callbacks
):
    secret = Secret.objects.create(host=offline_host, uuid=uuid.uuid4(), usage_type="iscsi", usage_id=f"{TAG}-rb")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.secret_set_value(actor=operator, secret=secret, value=PASSPHRASE)
            raise RuntimeError("the request failed after the service")
    assert _pending_values() == [] and sent == []


def test_a_value_nobody_picked_up_in_time_fails_the_operation(
    offline_host, operator, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        op = services.secret_define(
            actor=operator, host=offline_host, usage_type="iscsi", usage_id=f"{TAG}-late", value=PASSPHRASE
        )
    _redis().delete(*_pending_values())  # as if VALUE_TTL had passed
    op = operation_run(op.pk)
    assert op.status == "failed" and "not picked up" in op.error
    assert not Secret.objects.exists(), "nothing was defined"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["not base64!", "AQBm===", "QUJD\x00", "   "])
def test_a_ceph_value_that_is_not_base64_is_refused_with_nothing_defined(offline_host, operator, bad):
    with pytest.raises(services.SecretError) as refused:
        services.secret_define(actor=operator, host=offline_host, usage_type="ceph", usage_id=f"{TAG}-x", value=bad)
    assert str(refused.value) in (services.CEPH_HINT, "The value cannot be empty.")
    assert not Operation.objects.exists() and not Secret.objects.exists() and _pending_values() == []


def test_the_form_explains_a_bad_ceph_key_and_does_not_echo_it(offline_host, operator):
    client = Client()
    client.force_login(operator)
    bad = f"{PASSPHRASE}!"
    data = {"host": offline_host.pk, "usage_type": "ceph", "usage_id": f"{TAG}-f", "value": bad}
    response = client.post(reverse("storage:secret_create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert services.CEPH_HINT in page
    assert bad not in page and PASSPHRASE not in page
    assert 'type="password"' in page
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("usage_type", "usage_id", "words"),
    [
        ("ceph", "", "cannot be empty"),
        ("ceph", "   ", "cannot be empty"),
        ("iscsi", "iqn\x00evil", "NUL"),
        ("tls", "a\nb", "control characters"),
        ("tls", "x" * 256, "at most 255"),
        ("volume", "relative/luks.img", "absolute path"),
        ("vtpm", "x", "Unknown usage type"),
    ],
)
def test_usage_ids_are_checked(offline_host, operator, usage_type, usage_id, words):
    with pytest.raises(services.SecretError, match=words):
        services.secret_define(actor=operator, host=offline_host, usage_type=usage_type, usage_id=usage_id)
    assert not Operation.objects.exists()


def test_a_second_secret_for_the_same_usage_is_refused(offline_host, operator):
    Secret.objects.create(host=offline_host, uuid=uuid.uuid4(), usage_type="ceph", usage_id="client.admin")
    with pytest.raises(services.SecretError, match="already has a ceph secret for client.admin"):
        services.secret_define(actor=operator, host=offline_host, usage_type="ceph", usage_id="client.admin")
    assert not Operation.objects.exists()
    # another usage type, or another host, is fine
    other = Host.objects.create(name=unique("other"), uri=QEMU_URI)
    with transaction.atomic():
        services.secret_define(actor=operator, host=other, usage_type="ceph", usage_id="client.admin")
        services.secret_define(actor=operator, host=offline_host, usage_type="tls", usage_id="client.admin")
    assert Operation.objects.count() == 2


def test_libvirt_refuses_a_duplicate_the_inventory_did_not_know(qemu_host, qemu_conn, operator, queue_and_run):
    usage_id = f"{TAG}-dup"
    first = secret_virt.define(qemu_conn, SecretSpec("ceph", usage_id).to_xml())  # defined behind our back
    op = queue_and_run(
        services.secret_define,
        actor=operator,
        host=qemu_host,
        usage_type="ceph",
        usage_id=usage_id,
        value=CEPH_KEY,
    )
    assert op.status == "failed" and "already defined" in op.error
    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed", error=op.error).exists()
    assert [i.uuid for i in secret_virt.list_secrets(qemu_conn) if i.usage_id == usage_id] == [first]
    assert _pending_values() == []


# -- rights ------------------------------------------------------------------------------------


def test_a_viewer_is_refused_every_secret_action_and_each_refusal_is_audited(offline_host, viewer):
    secret = Secret.objects.create(host=offline_host, uuid=uuid.uuid4(), usage_type="ceph", usage_id="client.v")
    client = Client()
    client.force_login(viewer)
    listing = client.get(reverse("storage:secret_list"))
    assert listing.status_code == 200 and "client.v" in listing.content.decode()
    assert "Set value" not in listing.content.decode() and "New secret" not in listing.content.decode()
    create, value, delete = (
        reverse("storage:secret_create"),
        reverse("storage:secret_set_value", args=[secret.pk]),
        reverse("storage:secret_delete", args=[secret.pk]),
    )
    attempts = [
        ("get", create, {}),
        ("get", f"{create}?host={offline_host.pk}&usage=ceph", {}),
        ("post", create, {"host": offline_host.pk, "usage_type": "ceph", "usage_id": "y", "value": CEPH_KEY}),
        ("get", value, {}),
        ("post", value, {"value": CEPH_KEY}),
        ("get", delete, {}),
        ("post", delete, {}),
    ]
    for method, url, data in attempts:
        assert getattr(client, method)(url, data).status_code == 403, f"{method} {url}"
    denied = AuditEvent.objects.filter(action="auth.denied", outcome="denied", actor=viewer)
    assert denied.count() == len(attempts)
    assert {tuple(e.params.items()) for e in denied} == {(("permission", "secret.manage"),)}
    for service, kwargs in (
        (services.secret_define, {"host": offline_host, "usage_type": "ceph", "usage_id": "z", "value": CEPH_KEY}),
        (services.secret_set_value, {"secret": secret, "value": CEPH_KEY}),
        (services.secret_delete, {"secret": secret}),
    ):
        with pytest.raises(PermissionDenied):
            service(actor=viewer, **kwargs)
    assert denied.all().count() == len(attempts) + 3  # .all(): a fresh query, not the cache
    assert not Operation.objects.exists() and _pending_values() == []
    assert_absent(CEPH_KEY, _table_text(AuditEvent), "the audit log")


def test_the_new_secret_form_takes_host_and_usage_from_the_query(offline_host, operator):
    client = Client()
    client.force_login(operator)
    page = client.get(reverse("storage:secret_create") + f"?host={offline_host.pk}&usage=iscsi").content.decode()
    assert f'<option value="{offline_host.pk}" selected>' in page
    assert '<option value="iscsi" selected>' in page


def test_delete_asks_first_and_the_set_value_page_shows_no_value(offline_host, operator):
    secret = Secret.objects.create(
        host=offline_host, uuid=uuid.uuid4(), usage_type="volume", usage_id="/srv/luks.img", has_value=True
    )
    client = Client()
    client.force_login(operator)
    confirm = client.get(reverse("storage:secret_delete", args=[secret.pk])).content.decode()
    assert "Delete volume secret /srv/luks.img?" in confirm and not Operation.objects.exists()
    page = client.get(reverse("storage:secret_set_value", args=[secret.pk])).content.decode()
    assert "This replaces the current value." in page
    field = re.search(r'<input[^>]*name="value"[^>]*>', page).group(0)
    assert 'type="password"' in field and " value=" not in field


def test_the_list_costs_the_same_few_queries_for_any_number_of_secrets(
    offline_host, operator, django_assert_max_num_queries
):
    other = Host.objects.create(name=unique("other"), uri=QEMU_URI)
    for i in range(12):
        host = offline_host if i % 2 else other
        Secret.objects.create(
            host=host, uuid=uuid.uuid4(), usage_type="iscsi", usage_id=f"target-{i}", has_value=i % 3 == 0
        )
    client = Client()
    client.force_login(operator)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("storage:secret_list")).content.decode()
    assert page.count('class="secret-row"') == 12
    partial = client.get(reverse("storage:secret_list") + f"?host={other.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="secret-table"') and partial.count('class="secret-row"') == 6


# -- inventory ---------------------------------------------------------------------------------


def test_the_inventory_follows_secrets_made_and_removed_outside(qemu_conn, qemu_host):
    private = secret_virt.define(qemu_conn, SecretSpec("iscsi", f"{TAG}-out-private").to_xml())
    secret_virt.set_value(qemu_conn, private, b"chap-password")
    public = secret_virt.define(qemu_conn, SecretSpec("tls", f"{TAG}-out-public", private=False).to_xml())
    services.secret_inventory_sync(host=qemu_host, infos=secret_virt.list_secrets(qemu_conn))
    rows = {s.usage_id: s for s in Secret.objects.filter(host=qemu_host, usage_id__contains=TAG)}
    assert rows[f"{TAG}-out-private"].has_value is False, "libvirt will not say for a private secret"
    assert rows[f"{TAG}-out-public"].has_value is False

    secret_virt.set_value(qemu_conn, public, b"tls-passphrase")
    Secret.objects.filter(uuid=private).update(has_value=True)  # as after the dashboard set it
    services.secret_inventory_sync(host=qemu_host, infos=secret_virt.list_secrets(qemu_conn))
    assert Secret.objects.get(uuid=public).has_value is True, "a non-private secret's value is detected"
    assert Secret.objects.get(uuid=private).has_value is True, "a tracked value is kept"

    secret_virt.undefine(qemu_conn, private)
    secret_virt.undefine(qemu_conn, public)
    services.secret_inventory_sync(host=qemu_host, infos=secret_virt.list_secrets(qemu_conn))
    assert not Secret.objects.filter(host=qemu_host, usage_id__contains=TAG, present=True).exists()


def test_the_monitor_resyncs_secrets_and_leaves_a_host_without_secrets_alone(demo_host, test_driver):
    from apps.hosts import monitor
    from apps.storage.handlers import SLOW_TICK, sync_secrets

    assert sync_secrets in monitor._connect_handlers
    assert (sync_secrets, SLOW_TICK) in monitor._tick_handlers
    assert secret_virt.list_secrets(test_driver) is None
    sync_secrets(demo_host, test_driver)  # no VirtError: the monitor must not drop the host
    assert not Secret.objects.exists()


# -- end to end: the real worker ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_secret_travels_through_the_real_worker(stack, qemu_conn, operator):
    host = host_create(actor=None, name=unique("local"), uri=QEMU_URI)
    usage_id = f"{TAG}-e2e"
    client = Client()
    client.force_login(operator)

    def finished(kind):
        op = wait_for(
            lambda: Operation.objects.filter(kind=kind, status__in=["succeeded", "failed"]).first(),
            timeout=30,
            message=f"{kind} finished",
        )
        assert op.status == "succeeded", (op.error, stack.log("worker"))
        return op

    try:
        data = {"host": host.pk, "usage_type": "iscsi", "usage_id": usage_id, "description": "e2e", "value": PASSPHRASE}
        assert client.post(reverse("storage:secret_create"), data).status_code == 302
        op = finished("secret.define")
        secret = Secret.objects.get(pk=int(op.target_id))
        assert secret.has_value and secret_virt.secret_info(qemu_conn, str(secret.uuid)).private

        response = client.post(reverse("storage:secret_set_value", args=[secret.pk]), {"value": PASSPHRASE + "2"})
        assert response.status_code == 302
        finished("secret.set_value")

        assert client.post(reverse("storage:secret_delete", args=[secret.pk])).status_code == 302
        finished("secret.delete")
        assert secret_virt.secret_info(qemu_conn, str(secret.uuid)) is None
        wait_for(lambda: not Secret.objects.get(pk=secret.pk).present, message="secret gone from the inventory")

        for name in ("worker", "monitor", "web"):
            assert_absent(PASSPHRASE, stack.log(name), f"the {name} log")
        assert_absent(PASSPHRASE, _table_text(AuditEvent) + _table_text(Operation), "the database")
        assert _pending_values() == []
    finally:
        _remove_tagged(qemu_conn)
