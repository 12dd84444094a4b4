"""The console pages through the Django test client, on the shared test driver: what each person
sees before a console connects (the console and the socket it opens, view-only, the missing right,
why it cannot open now), the pop-out windows, "Connected now" and an administrator's Close."""

import re

import pytest
from django.urls import reverse

from apps.accounts.services import grant_add, user_create
from apps.audit.models import AuditEvent
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.compute.virt.xml import Domain
from apps.compute.virt.xml.devices import Graphics
from apps.consoles.models import ConsoleSession
from apps.hosts.models import HostState
from apps.hosts.virt import connection
from tests.conftest import PASSWORD
from tests.helpers import TEST_URI, created_domains, make_vm, unique

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def demo_host(demo_host):
    """The test driver's host as the monitor leaves it once connected: up (consoles are read from
    libvirt only on a host that is)."""
    demo_host.state = HostState.UP
    demo_host.save(update_fields=["state"])
    return demo_host


def console_vm(host, *, displays=("vnc",), serial=True, start=True):
    """A domain on the test driver with these displays (on fixed ports: the test driver picks
    none) and a serial console, plus its inventory row."""
    graphics = [Graphics(kind, port=5990 + i) for i, kind in enumerate(displays)]
    spec = Domain(unique("console"), memory_mib=64, domain_type="test", graphics=graphics, serial_console=serial)
    conn = connection.get(TEST_URI)
    dom_uuid = domains.define(conn, spec.to_xml())
    created_domains.append(dom_uuid)
    if start:
        domains.power(conn, dom_uuid, "start")
    return vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(conn, dom_uuid))


def page(client, user, name, vm, **extra):
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse(name, args=[vm.pk]), **{**HX, **extra})
    return response, response.content.decode()


def opening_tag(body, tag):
    return re.search(rf"<{tag}\b[^>]*>", body).group(0)


def test_the_console_tab_of_a_running_vm_carries_the_console_and_its_socket(client, demo_host, operator):
    vm = console_vm(demo_host)
    response, body = page(client, operator, "consoles:vnc_tab", vm)
    assert response.status_code == 200
    section = opening_tag(body, "section")
    assert f'id="vm-tab-{vm.pk}"' in section and 'data-tab="console"' in section
    # Not re-read on the VM's live changes, which would cut the console in use.
    assert "hx-trigger" not in section and "hx-get" not in section and "kv:refresh" not in body
    assert 'data-console="vnc"' in body and f'data-ws="/ws/vms/{vm.pk}/vnc/"' in body
    assert "data-view-only" not in body
    assert "Ctrl+Alt+Del" in body and "Ctrl+Alt+F12" in body and "PrintScreen" in body
    assert "Paste as keystrokes" in body and '<option value="de">de</option>' in body
    assert reverse("consoles:vnc_window", args=[vm.pk]) in body  # the pop-out
    assert 'type="module"' in body and "js/consoles/vnc.js" in body
    assert "console-reason" not in body


def test_the_serial_tab_of_a_running_vm_carries_the_terminal(client, demo_host, operator):
    vm = console_vm(demo_host)
    response, body = page(client, operator, "consoles:serial_tab", vm)
    assert response.status_code == 200
    section = opening_tag(body, "section")
    assert 'data-tab="serial"' in section and "hx-trigger" not in section
    assert 'data-console="serial"' in body and f'data-ws="/ws/vms/{vm.pk}/serial/"' in body
    assert "js/consoles/serial.js" in body and "vendor/xterm/xterm.css" in body
    assert "Take over" in body  # shown once the socket says another session holds it
    assert reverse("consoles:serial_window", args=[vm.pk]) in body


def test_the_pop_out_windows_are_pages_of_their_own_with_the_power_buttons(client, demo_host, operator):
    vm = console_vm(demo_host)
    response, body = page(client, operator, "consoles:vnc_window", vm, HTTP_HX_REQUEST="")
    assert response.status_code == 200
    assert f"<title>{vm.name} · console · kvmweb</title>" in body
    assert 'data-console="vnc"' in body and "console-popout" not in body
    assert reverse("compute:vm_power", args=[vm.pk, "shutdown"]) in body
    assert 'ws-connect="/ws/live/"' in body and f'id="vm-signal-{vm.pk}"' in body

    response, body = page(client, operator, "consoles:serial_window", vm, HTTP_HX_REQUEST="")
    assert f"<title>{vm.name} · serial console · kvmweb</title>" in body and 'data-console="serial"' in body
    # xterm.js writes <style> elements: this page allows them (still no inline script).
    policy = response.headers["Content-Security-Policy"]
    assert re.search(r"style-src-elem 'self' 'unsafe-inline'", policy)
    assert (
        re.search(r"script-src 'self'", policy) and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )


def test_the_window_re_reads_its_parts_alone(client, demo_host, operator):
    vm = console_vm(demo_host)
    url = reverse("consoles:vnc_window", args=[vm.pk])
    assert client.login(username=operator.username, password=PASSWORD)
    power = client.get(url + "?part=power", **HX).content.decode()
    assert power.lstrip().startswith(f'<div id="console-power-{vm.pk}"') and "<html" not in power
    assert reverse("compute:vm_power", args=[vm.pk, "destroy"]) in power
    console = client.get(url + "?part=console", **HX).content.decode()
    assert console.lstrip().startswith(f'<main id="console-area-{vm.pk}"') and 'data-console="vnc"' in console


def test_power_buttons_in_the_window_follow_the_right(client, demo_host, viewer, settings):
    settings.KVMWEB_CONSOLE_VIEW_ONLY = True
    vm = console_vm(demo_host)
    response, body = page(client, viewer, "consoles:vnc_window", vm, HTTP_HX_REQUEST="")
    assert response.status_code == 200 and "data-view-only" in body
    assert reverse("compute:vm_power", args=[vm.pk, "shutdown"]) not in body


def test_someone_without_vm_console_is_told_which_right_is_missing(client, demo_host, viewer):
    vm = console_vm(demo_host)
    for name in ("consoles:vnc_tab", "consoles:serial_tab", "consoles:vnc_window", "consoles:serial_window"):
        response, body = page(client, viewer, name, vm)
        assert response.status_code == 200, name
        assert "vm.console" in body and f"You may see {vm.name} but not use its console" in body, name
        assert "data-console=" not in body and "data-ws=" not in body, name


def test_viewers_watch_the_screen_where_an_administrator_allows_it(client, demo_host, viewer, settings):
    settings.KVMWEB_CONSOLE_VIEW_ONLY = True
    vm = console_vm(demo_host)
    response, body = page(client, viewer, "consoles:vnc_tab", vm)
    assert f'data-ws="/ws/vms/{vm.pk}/vnc/?view_only=1"' in body and "data-view-only" in body
    # The keyboard controls are there, off, saying why.
    assert "console-view-only" in body and "needs the right vm.console" in body
    assert "console-paste-type" not in body and 'data-keys="ctrl-alt-del"' not in body
    # The serial console has no view-only form: what the guest prints answers what was typed.
    response, body = page(client, viewer, "consoles:serial_tab", vm)
    assert "data-console=" not in body and "vm.console" in body


def test_a_vm_one_may_not_see_answers_like_a_missing_one(client, demo_host, operator):
    vm = console_vm(demo_host)
    stranger, _ = user_create(actor=None, username="sid-stranger", password=PASSWORD)
    grant_add(actor=None, user=stranger, role="VM user", scope=make_vm(demo_host))
    for name in ("consoles:vnc_tab", "consoles:serial_tab", "consoles:vnc_window", "consoles:serial_window"):
        response, _ = page(client, stranger, name, vm)
        assert response.status_code == 404, name
    response, _ = page(client, stranger, "consoles:sessions", vm)
    assert response.status_code == 404


def test_a_stopped_vm_says_so(client, demo_host, operator):
    vm = console_vm(demo_host, start=False)
    for name in ("consoles:vnc_tab", "consoles:serial_tab"):
        _, body = page(client, operator, name, vm)
        assert f"{vm.name} is not running (shut off): start it to use its console." in body, name
        assert "data-console=" not in body, name
        # Re-read from here when the VM changes, e.g. once it runs.
        assert f'data-reread="{reverse(name, args=[vm.pk])}"' in body


def test_no_display_and_no_serial_port_are_explained_and_can_be_added(client, demo_host, operator, viewer):
    vm = console_vm(demo_host, displays=(), serial=False)
    settings_url = reverse("compute:vm_detail", args=[vm.pk]) + "?tab=settings#display-form"
    _, body = page(client, operator, "consoles:vnc_tab", vm)
    assert f"{vm.name} has no graphical display" in body and "data-console=" not in body
    assert f'href="{settings_url}">Add a VNC display in its settings' in body
    _, body = page(client, operator, "consoles:serial_tab", vm)
    assert f"{vm.name} has no serial console" in body and "Add a serial port" in body
    assert f'href="{settings_url}">Add a serial console in its settings' in body
    # Offered only to those who may change the VM, and not when the VM has what is asked for.
    client.logout()
    grant_add(actor=None, user=viewer, role="VM user", scope=vm)
    _, body = page(client, viewer, "consoles:serial_tab", vm)
    assert "has no serial console" in body and "console-add" not in body
    client.logout()
    _, body = page(client, operator, "consoles:vnc_tab", console_vm(demo_host, start=False))
    assert "is not running" in body and "console-add" not in body


def test_a_spice_only_vm_offers_remote_viewer(client, demo_host, operator):
    vm = console_vm(demo_host, displays=("spice",))
    _, body = page(client, operator, "consoles:vnc_tab", vm)
    assert "SPICE display only" in body and "data-console=" not in body
    assert "Add a VNC display in its settings" in body
    # remote-viewer gets a .vv file made for this person (POST, with the CSRF token).
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', body, re.S)
    assert form and form.group(1) == reverse("consoles:spice_vv", args=[vm.pk])
    assert "csrfmiddlewaretoken" in form.group(0) and "Download a .vv file for remote-viewer" in form.group(0)


def test_spice_beside_vnc_is_offered_in_the_toolbar(client, demo_host, operator, viewer, settings):
    vm = console_vm(demo_host, displays=("vnc", "spice"))
    _, body = page(client, operator, "consoles:vnc_tab", vm)
    assert 'data-console="vnc"' in body and "Open in remote-viewer (SPICE)" in body
    # Not for someone who may only watch: the file opens the console with keyboard and mouse.
    settings.KVMWEB_CONSOLE_VIEW_ONLY = True
    client.logout()
    _, body = page(client, viewer, "consoles:vnc_tab", vm)
    assert "data-view-only" in body and "remote-viewer" not in body


def test_a_host_that_is_down_is_named(client, demo_host, operator):
    vm = console_vm(demo_host)
    demo_host.state, demo_host.last_error = HostState.DOWN, "connection refused"
    demo_host.save()
    _, body = page(client, operator, "consoles:vnc_tab", vm)
    assert f"Host {demo_host.name} is unreachable" in body and "data-console=" not in body


def _session(vm, user, kind="vnc", **fields):
    return ConsoleSession.objects.create(vm=vm, user=user, kind=kind, client="192.0.2.7", **fields)


def test_connected_now_lists_open_consoles_and_only_host_managers_may_close_them(client, demo_host, operator, admin):
    vm = console_vm(demo_host)
    _session(vm, operator, "serial")
    _session(vm, admin, "vnc", view_only=True)
    _session(vm, operator, "vnc", closed_at="2020-01-01T00:00:00Z")  # over: not listed
    _, body = page(client, operator, "consoles:vnc_tab", vm)
    rows = re.findall(r'<tr class="console-session".*?</tr>', body, re.S)
    assert len(rows) == 2
    assert "oscar-operator" in rows[0] and "serial" in rows[0] and "192.0.2.7" in rows[0]
    assert "alice-admin" in rows[1] and "graphical (view only)" in rows[1]
    assert "console-session-close" not in body  # an Operator does not administer the host
    # The list re-reads itself when a console opens or closes, and when the live socket reopens.
    assert f'hx-trigger="kv:consoles-{vm.pk} from:body, kv:resync from:body"' in body

    client.logout()
    _, body = page(client, admin, "consoles:serial_tab", vm)
    assert body.count("console-session-close") == 2


def test_an_administrator_closes_a_console(client, demo_host, operator, admin, django_capture_on_commit_callbacks):
    vm = console_vm(demo_host)
    session = _session(vm, operator, "serial")
    url = reverse("consoles:session_close", args=[vm.pk, session.pk])
    assert client.login(username=operator.username, password=PASSWORD)
    assert client.post(url, **HX).status_code == 403  # host.manage, which an Operator lacks
    client.logout()
    assert client.login(username=admin.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **HX)
    assert response.status_code == 200 and f'id="console-sessions-{vm.pk}"' in response.content.decode()
    event = AuditEvent.objects.filter(action="console.end").latest("pk")
    assert event.actor == admin and event.params["user"] == "oscar-operator" and event.params["kind"] == "serial"
    # A console that is over has nothing left to close.
    session.closed_at = session.opened_at
    session.save()
    assert client.post(url, **HX).status_code == 404
