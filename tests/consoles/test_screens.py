"""Screen thumbnails: a tiny real QEMU domain's firmware screen, taken on the worker, shrunk to a
PNG and kept in Redis; served to those who may see the console, refused to those who may only
see the VM, not found for others; gone once the VM stops; and the VM list's cards, which show
them without a single libvirt call while the page renders."""

import re
import uuid
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from apps.audit.models import AuditEvent
from apps.compute.services import vm_inventory_apply
from apps.compute.virt import consoles as virt_consoles
from apps.compute.virt import domains
from apps.compute.virt.xml import Domain
from apps.compute.virt.xml.devices import Graphics
from apps.consoles import screens, tasks
from apps.core import realtime
from apps.hosts.models import Host, HostState
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from tests.helpers import QEMU_URI, make_vm, unique, wait_for


@pytest.fixture(autouse=True)
def no_thumbnails():
    """Each test starts without thumbnails or marks left by another."""

    def clear():
        r = screens._r()
        for key in r.scan_iter("kvmweb:screen*"):
            r.delete(key)

    clear()
    yield
    clear()


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def flat(img):
    """One colour all over (a screen nothing has painted yet)."""
    return all(low == high for low, high in img.convert("RGB").getextrema())


def painted(conn, vm):
    """The domain's screen has something on it (SeaBIOS prints its banner): the firmware has run."""
    _mime, data = virt_consoles.screenshot(conn, str(vm.uuid))
    return not flat(Image.open(BytesIO(data)))


@pytest.fixture
def vnc_vm(qemu_conn):
    """vnc_vm(host, start=True) -> the inventory row of a diskless 32 MiB QEMU domain with a VNC
    display on loopback (its firmware paints the screen)."""
    made = []

    def _make(host, *, start=True):
        display = Graphics("vnc", listen="127.0.0.1")
        spec = Domain(unique("screen"), memory_mib=32, domain_type="qemu", uuid=str(uuid.uuid4()), graphics=[display])
        dom_uuid = domains.define(qemu_conn, spec.to_xml())
        made.append(dom_uuid)
        if start:
            domains.power(qemu_conn, dom_uuid, "start")
        return vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(qemu_conn, dom_uuid))

    yield _make
    for dom_uuid in made:
        domains.undefine(qemu_conn, dom_uuid)


def stop(qemu_conn, vm):
    domains.power(qemu_conn, str(vm.uuid), "destroy")
    return vm_inventory_apply(host=vm.host, uuid=str(vm.uuid), info=domains.domain_info(qemu_conn, str(vm.uuid)))


@pytest.mark.qemu
@pytest.mark.django_db
def test_a_running_vms_screen_is_a_small_png_its_console_users_see(qemu_conn, vnc_vm, operator, viewer, outsider):
    local = Host.objects.create(name="local", uri=QEMU_URI, state=HostState.UP)
    vm = vnc_vm(local)
    wait_for(lambda: painted(qemu_conn, vm), timeout=30, message="the firmware to paint the screen")
    _mime, raw = virt_consoles.screenshot(qemu_conn, str(vm.uuid))
    full = Image.open(BytesIO(raw))

    assert screens.refresh_host(local) == [vm.pk]

    answer = client_for(operator).get(reverse("screens:screen_png", args=[vm.pk]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/png"
    assert answer["Cache-Control"] == "private, no-cache"
    thumb = Image.open(BytesIO(answer.content))
    assert thumb.format == "PNG"
    assert thumb.width <= 320 and thumb.height <= 240
    assert thumb.width == 320 or thumb.height == 240  # as large as fits
    assert not flat(thumb), "the firmware's text is in the picture"
    # The screen's shape is kept (compared on one screenshot: the firmware changes video modes).
    _png, width, height = screens.thumbnail(raw)
    assert abs(width / height - full.width / full.height) < 0.02

    # The browser asks again with the ETag it holds: the same picture is not sent twice.
    again = client_for(operator).get(reverse("screens:screen_png", args=[vm.pk]), HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304

    # The VM page's Overview shows it to the operator, with the time it was taken and Refresh.
    overview = client_for(operator).get(reverse("compute:vm_overview", args=[vm.pk])).content.decode()
    version = screens.screen_of(vm).version
    assert f'src="/vms/{vm.pk}/screen.png?v={version}"' in overview
    assert f'alt="Screen of {vm.name}"' in overview
    assert "Taken <time" in overview and "Refresh</button>" in overview

    # Someone who may not see the VM does not learn it exists; a Viewer may see it but not its console.
    assert client_for(outsider).get(reverse("screens:screen_png", args=[vm.pk])).status_code == 404
    assert client_for(viewer).get(reverse("screens:screen_png", args=[vm.pk])).status_code == 403
    denied = AuditEvent.objects.filter(action="auth.denied", actor=viewer, target_id=str(vm.pk)).get()
    assert denied.params == {"permission": "vm.console"}
    assert (
        f'id="screen-{vm.pk}"'
        not in client_for(viewer).get(reverse("compute:vm_overview", args=[vm.pk])).content.decode()
    )
    assert client_for(viewer).post(reverse("screens:screen_refresh", args=[vm.pk])).status_code == 403

    # Open pages of those who may see it are told a new picture is there; the Viewer's are not.
    event = {"kind": "screens", "vms": [vm.pk]}
    assert realtime.render_event(operator, event) == [realtime.signal(f"screen-{vm.pk}")]
    assert realtime.render_event(viewer, event) == []
    assert realtime.render_event(outsider, event) == []


@pytest.mark.qemu
@pytest.mark.django_db
def test_a_vm_that_is_not_running_has_no_screen(qemu_conn, vnc_vm, operator):
    local = Host.objects.create(name="local", uri=QEMU_URI, state=HostState.UP)
    vm, never_started = vnc_vm(local), vnc_vm(local, start=False)
    screens.refresh_host(local)
    assert screens.png_of(vm) is not None
    assert screens.screen_of(never_started) is None

    vm = stop(qemu_conn, vm)
    # Even before the next tick, a stopped VM's last picture is not shown...
    assert client_for(operator).get(reverse("screens:screen_png", args=[vm.pk])).status_code == 404
    partial = client_for(operator).get(reverse("screens:screen", args=[vm.pk])).content.decode()
    assert "No screen while the VM is shut off." in partial and "<img" not in partial
    # ...and the tick drops it.
    assert screens.refresh_host(local) == []
    assert not screens._r().exists(screens.PREFIX + str(vm.pk))
    # Nothing to refresh either: the button's request does nothing.
    assert client_for(operator).post(reverse("screens:screen_refresh", args=[vm.pk])).status_code == 204


@pytest.mark.qemu
@pytest.mark.django_db(transaction=True)
def test_the_hosts_worker_takes_the_pictures(stack, qemu_conn, vnc_vm, operator):
    """Through the real worker: the beat's tick hands the host its share on the host's queue, and
    Refresh asks for one VM at once."""
    local = host_create(actor=None, name="local", uri=QEMU_URI)  # the workers now consume its queue
    wait_for(lambda: Host.objects.get(pk=local.pk).is_up, timeout=30, message="the monitor to see the host up")
    vm = vnc_vm(local)
    wait_for(lambda: painted(qemu_conn, vm), timeout=30, message="the firmware to paint the screen")

    tasks.screens_tick()
    wait_for(lambda: screens.png_of(vm), timeout=30, message="the worker's picture from the tick")

    screens._r().delete(screens.PREFIX + str(vm.pk))
    refresh = reverse("screens:screen_refresh", args=[vm.pk])
    assert client_for(operator).post(refresh).status_code == 202
    assert client_for(operator).post(refresh).status_code == 204  # asked a moment ago: not queued twice
    shot, png = wait_for(lambda: screens.png_of(vm), timeout=30, message="the worker's picture on demand")
    assert not flat(Image.open(BytesIO(png)))


@pytest.mark.django_db
def test_the_card_view_shows_screens_without_asking_libvirt(
    demo_host, operator, viewer, monkeypatch, django_assert_max_num_queries
):
    shown, waiting, stopped = make_vm(demo_host, start=True), make_vm(demo_host, start=True), make_vm(demo_host)
    assert screens.refresh_vm(shown)  # the test driver's screen, taken as the worker would
    others = [make_vm(demo_host) for _ in range(8)]

    calls = []
    real_get, real_shot = connection.get, virt_consoles.screenshot
    monkeypatch.setattr(connection, "get", lambda *a, **k: calls.append("connect") or real_get(*a, **k))
    monkeypatch.setattr(virt_consoles, "screenshot", lambda *a, **k: calls.append("screenshot") or real_shot(*a, **k))
    client = client_for(operator)
    with django_assert_max_num_queries(8):  # as the table's (tests/compute/list): none per VM
        cards = client.get(reverse("compute:vm_list") + "?view=cards").content.decode()
    assert calls == [], "rendering the list called libvirt"

    for vm in [shown, waiting, stopped, *others]:
        assert f'id="vm-card-{vm.pk}"' in cards and f'id="vm-row-{vm.pk}"' in cards
    version = screens.screen_of(shown).version
    assert f'src="/vms/{shown.pk}/screen.png?v={version}"' in cards
    assert cards.count('loading="lazy"') == 1
    assert cards.count("No picture yet") == 1  # the running VM whose picture is not taken yet
    assert cards.count("No screen while the VM is shut off.") == 1 + len(others)
    assert re.search(r'id="vm-view-cards"[^>]* checked', cards)  # the switch, part of the filter

    # The table stays the default, without pictures; a Viewer's cards show none either.
    table = client.get(reverse("compute:vm_list")).content.decode()
    assert 'id="vm-card-' not in table and "screen.png" not in table
    viewer_cards = client_for(viewer).get(reverse("compute:vm_list") + "?view=cards").content.decode()
    assert f'id="vm-card-{shown.pk}"' in viewer_cards and "screen.png" not in viewer_cards
    assert "The screen is shown to those who may open the console." in viewer_cards
    assert calls == []
