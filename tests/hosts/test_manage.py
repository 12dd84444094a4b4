"""Adding, editing and removing hosts through their pages; the connection test runs on the real
worker of the `stack` fixture and its failures come back in libvirt's words."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.audit.models import AuditEvent
from apps.authz.models import Grant
from apps.compute.models import VirtualMachine
from apps.hosts.models import Host
from apps.hosts.services import HostError, host_create, host_remove, host_update
from apps.operations.models import Operation
from tests.helpers import TEST_URI, make_vm


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _audit(action, name):
    return list(
        AuditEvent.objects.filter(action=action, target_name=name).order_by("id").values_list("outcome", "error")
    )


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- add --------------------------------------------------------------------------------------------


def test_add_tests_the_connection_on_the_worker_and_saves(stack, admin, test_driver):
    response = _client(admin).post(reverse("hosts:host_add"), {"name": "demo2", "kind": "uri", "uri": TEST_URI})
    host = Host.objects.get(name="demo2")
    assert response.status_code == 302 and response["Location"] == reverse("hosts:host_detail", kwargs={"pk": host.pk})
    assert host.uri == TEST_URI and host.state == "unknown"
    assert _audit("host.create", "demo2") == [("requested", ""), ("succeeded", "")]
    assert AuditEvent.objects.filter(action="host.create", actor=admin).count() == 2


def test_a_failed_connection_test_shows_libvirts_error_and_saves_nothing(stack, admin):
    uri = "test+unix:///nonexistent-file.xml"
    response = _client(admin).post(reverse("hosts:host_add"), {"name": "broken", "kind": "uri", "uri": uri})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Could not connect: XML error: failed to parse xml document &#x27;/nonexistent-file.xml&#x27;" in html
    assert not Host.objects.filter(name="broken").exists()
    outcomes = _audit("host.create", "broken")
    assert [o for o, _ in outcomes] == ["requested", "failed"] and "failed to parse xml" in outcomes[1][1]


def test_a_closed_port_is_refused_in_libvirts_words(stack, admin):
    port = _free_port()
    data = {"name": "closed", "kind": "uri", "uri": f"qemu+tcp://127.0.0.1:{port}/system"}
    html = _client(admin).post(reverse("hosts:host_add"), data).content.decode()
    assert f"unable to connect to server at &#x27;127.0.0.1:{port}&#x27;: Connection refused" in html
    assert not Host.objects.filter(name="closed").exists()


def test_bad_form_input_never_reaches_the_worker(db, admin):
    """No stack here: a garbage URI is refused by the form before any connection test."""
    html = _client(admin).post(reverse("hosts:host_add"), {"name": "x", "kind": "uri", "uri": "garbage"}).content
    assert b"not a libvirt URI" in html and not Host.objects.filter(name="x").exists()
    assert not AuditEvent.objects.filter(action="host.create").exists()


def test_duplicate_names_and_uris_are_refused(demo_host):
    with pytest.raises(HostError, match="already exists"):
        host_create(actor=None, name="demo", uri="test+unix:///other")
    with pytest.raises(HostError, match="already connects to"):
        host_create(actor=None, name="demo-again", uri=TEST_URI)


@pytest.mark.parametrize(
    "spelling",
    ["TEST+UNIX:///default", "qemu+ssh://root@HV1.example.com:22/system", "qemu+ssh://root@hv1.example.com/system"],
)
def test_two_spellings_of_one_connection_are_one_host(demo_host, spelling):
    host_create(actor=None, name="hv1", uri="qemu+ssh://root@hv1.example.com/system")
    with pytest.raises(HostError, match="already connects to"):
        host_create(actor=None, name="again", uri=spelling)


@pytest.mark.parametrize(
    "uri, words",
    [
        ("qemu+ssh://root@hv1/system?known_hosts_verify=ignore", "Refused value known_hosts_verify=ignore"),
        ("qemu+ssh://root@hv1/system?no_verify=1", "Refused parameter 'no_verify'"),
        ("qemu+ssh://root@hv1/system?netcat=/tmp/x", "Refused parameter 'netcat'"),
        ("qemu+ssh://root@hv1/system?command=/bin/sh", "Refused parameter 'command'"),
        ("qemu:///system?socket=/run/other.sock", "Refused parameter 'socket'"),
        ("qemu+tls://hv1/system?tls_priority=NONE", "Unknown parameter 'tls_priority'"),
    ],
)
def test_uri_parameters_are_allowed_by_name_through_the_form(db, admin, uri, words):
    response = _client(admin).post(reverse("hosts:host_add"), {"name": "hv1", "kind": "uri", "uri": uri})
    assert response.status_code == 200 and words in html.unescape(response.content.decode())
    assert not Host.objects.filter(name="hv1").exists()


def test_test_driver_hosts_only_where_an_administrator_allows_them(db, admin, settings):
    settings.KVMWEB_ALLOW_TEST_HOSTS = False
    response = _client(admin).post(reverse("hosts:host_add"), {"name": "fake", "kind": "uri", "uri": TEST_URI})
    assert response.status_code == 200 and "KVMWEB_ALLOW_TEST_HOSTS" in response.content.decode()
    assert not Host.objects.filter(name="fake").exists()


def test_a_host_scoped_administrator_may_rename_but_not_repoint_it(demo_host, operator):
    grant_add(actor=None, user=operator, role="Administrator", scope=demo_host)
    client = _client(operator)
    url = reverse("hosts:host_edit", kwargs={"pk": demo_host.pk})
    response = client.post(url, {"name": "demo", "kind": "local"})
    assert response.status_code == 403
    assert Host.objects.get(pk=demo_host.pk).uri == TEST_URI, "the entry still points at the same hypervisor"
    assert AuditEvent.objects.filter(actor=operator, outcome="denied", params__permission="host.manage").count() == 1
    response = client.post(url, {"name": "renamed", "kind": "uri", "uri": TEST_URI})
    assert response.status_code == 302
    assert Host.objects.get(pk=demo_host.pk).name == "renamed"


def test_operators_may_not_add_edit_or_remove(demo_host, operator):
    client = _client(operator)
    assert client.get(reverse("hosts:host_add")).status_code == 403
    data = {"name": "renamed", "kind": "uri", "uri": TEST_URI}
    assert client.post(reverse("hosts:host_edit", kwargs={"pk": demo_host.pk}), data).status_code == 403
    data = {"confirm": "demo"}
    assert client.post(reverse("hosts:host_remove", kwargs={"pk": demo_host.pk}), data).status_code == 403
    assert Host.objects.get(pk=demo_host.pk).name == "demo"
    assert AuditEvent.objects.filter(actor=operator, outcome="denied", params__permission="host.manage").count() == 3


# -- edit -------------------------------------------------------------------------------------------


def test_rename_keeps_the_connection_and_is_audited_with_the_change(demo_host, admin):
    response = _client(admin).post(
        reverse("hosts:host_edit", kwargs={"pk": demo_host.pk}), {"name": "renamed", "kind": "uri", "uri": TEST_URI}
    )
    assert response.status_code == 302
    assert Host.objects.get(pk=demo_host.pk).name == "renamed"
    event = AuditEvent.objects.filter(action="host.update", outcome="succeeded").get()
    assert event.actor == admin and event.changes == {"name": {"before": "demo", "after": "renamed"}}


def test_a_new_uri_is_tested_and_a_failure_changes_nothing(stack, demo_host, admin):
    url = reverse("hosts:host_edit", kwargs={"pk": demo_host.pk})
    data = {"name": "demo", "kind": "uri", "uri": "test+unix:///nonexistent-file.xml"}
    html = _client(admin).post(url, data).content.decode()
    assert "Could not connect: XML error" in html
    assert Host.objects.get(pk=demo_host.pk).uri == TEST_URI
    assert [o for o, _ in _audit("host.update", "demo")] == ["requested", "failed"]


def test_a_new_uri_that_connects_is_saved_and_the_state_starts_over(stack, demo_host, admin):
    Host.objects.filter(pk=demo_host.pk).update(state="up")
    url = reverse("hosts:host_edit", kwargs={"pk": demo_host.pk})
    assert (
        _client(admin).post(url, {"name": "demo", "kind": "uri", "uri": "test:///default"}).status_code == 302
    )
    host = Host.objects.get(pk=demo_host.pk)
    assert host.uri == "test:///default" and host.state == "unknown"


def test_the_edit_form_shows_the_current_connection(demo_host, admin):
    html = _client(admin).get(reverse("hosts:host_edit", kwargs={"pk": demo_host.pk})).content.decode()
    assert 'value="test+unix:///default"' in html and 'value="uri" selected' in html


# -- remove -----------------------------------------------------------------------------------------


def test_remove_is_refused_while_kvmweb_lists_vms_on_it(demo_host, admin):
    vm = make_vm(demo_host)
    url = reverse("hosts:host_remove", kwargs={"pk": demo_host.pk})
    page = _client(admin).get(url).content.decode()
    assert vm.name in page and "Forget its VMs too" in page
    html = _client(admin).post(url, {"confirm": "demo"}).content.decode()
    assert "kvmweb lists 1 VM(s) on this host" in html and vm.name in html
    assert Host.objects.filter(pk=demo_host.pk).exists() and VirtualMachine.objects.filter(pk=vm.pk).exists()
    assert [o for o, _ in _audit("host.remove", "demo")] == ["requested", "failed"]


def test_remove_needs_the_name_typed(demo_host, admin):
    html = _client(admin).post(reverse("hosts:host_remove", kwargs={"pk": demo_host.pk}), {"confirm": "dem"}).content
    assert b"Type demo exactly" in html and Host.objects.filter(pk=demo_host.pk).exists()


def test_remove_forgets_the_inventory_and_grants_but_keeps_history(demo_host, admin, viewer):
    vm = make_vm(demo_host)
    grant_add(actor=None, user=viewer, role="VM user", scope=vm)
    grant_add(actor=None, user=viewer, role="Operator", scope=demo_host)
    history = AuditEvent.objects.filter(host_id=demo_host.pk).count()
    url = reverse("hosts:host_remove", kwargs={"pk": demo_host.pk})
    response = _client(admin).post(url, {"confirm": "demo", "forget_vms": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("hosts:host_list")
    assert not Host.objects.filter(pk=demo_host.pk).exists() and not VirtualMachine.objects.filter(pk=vm.pk).exists()
    assert not Grant.objects.filter(scope_type="vm", scope_id=vm.pk).exists()
    assert not Grant.objects.filter(scope_type="host", scope_id=demo_host.pk).exists()
    assert Grant.objects.filter(user=viewer, scope_type="global").exists()  # the viewer's own role stays
    assert AuditEvent.objects.filter(host_id=demo_host.pk).count() == history  # history is kept
    done = AuditEvent.objects.filter(action="host.remove", outcome="succeeded").get()
    assert done.actor == admin and done.params["vms"] == [vm.name] and done.target_id == str(demo_host.pk)
    # Nothing on the hypervisor changed: the domain is still defined.
    from apps.compute.virt import domains
    from apps.hosts.virt import connection

    assert domains.domain_info(connection.get(TEST_URI), str(vm.uuid)).name == vm.name


def test_remove_is_refused_while_an_operation_runs_there(demo_host, admin):
    Operation.objects.create(kind="vm.power", target_type="vm", target_id="1", target_name="x", host_id=demo_host.pk)
    with pytest.raises(HostError, match="still queued or running"):
        host_remove(actor=admin, host=demo_host)
    assert Host.objects.filter(pk=demo_host.pk).exists()


def test_update_without_changes_records_nothing(demo_host, admin):
    host_update(actor=admin, host=demo_host, name="demo", uri=TEST_URI)
    assert not AuditEvent.objects.filter(action="host.update").exists()


def test_host_add_command_refuses_a_bad_uri_and_registers_a_good_one(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="needs the SSH user"):
        call_command("host_add", "hv1", "qemu+ssh://hv1.example.com/system")
    call_command("host_add", "demo", TEST_URI)
    assert Host.objects.get(name="demo").uri == TEST_URI
    assert _audit("host.create", "demo") == [("requested", ""), ("succeeded", "")]


def test_an_administrator_opens_bridges_to_vm_users_on_the_edit_form(demo_host, admin):
    url = reverse("hosts:host_edit", kwargs={"pk": demo_host.pk})
    form = _client(admin).get(url).content.decode()
    assert "Bridges open to VM users" in form
    data = {"name": "demo", "kind": "uri", "uri": TEST_URI, "vm_bridges": "br-guests, br-lab"}
    assert _client(admin).post(url, data).status_code == 302
    demo_host.refresh_from_db()
    assert demo_host.vm_bridges == ["br-guests", "br-lab"]
    assert AuditEvent.objects.filter(action="host.vm_bridges", outcome="succeeded").count() == 1
    bad = {**data, "vm_bridges": "br0; rm -rf /"}
    response = _client(admin).post(url, bad)
    assert response.status_code == 200 and "is not a bridge name" in html.unescape(response.content.decode())
