"""DHCP leases: what the monitor's slow tick stores (in the shape apps/network/virt/networks.py's
`leases` gives them), the live change it publishes, the network's page linking each lease to the
VM whose NIC has that MAC (only a VM the viewer may see is named), and the list's lease count.
The last test reads leases from the real libvirtd."""

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.authz.models import Role
from apps.compute.models import VirtualMachine
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.network import handlers
from apps.network.models import Port, VirtualNetwork
from apps.network.services.inventory import network_set_leases
from apps.network.virt import networks as network_virt
from kvmweb.asgi import application
from tests.helpers import QEMU_URI, TEST_URI, unique, wait_for

WEB_MAC, SECRET_MAC, STRANGER_MAC = "52:54:00:10:00:01", "52:54:00:10:00:02", "52:54:00:10:00:99"
EXPIRES = 1_900_000_000  # 2030-03-17 17:46:40 UTC


def _lease(mac, ip, hostname="", expires=EXPIRES):
    """One lease as network_virt.leases returns it: MAC in lower case, address with its prefix,
    hostname "" when the guest sent none, expiry in seconds since the epoch (0: never)."""
    return {"mac": mac, "ip": ip, "hostname": hostname, "expires": expires}


LEASES = [
    _lease(WEB_MAC, "10.60.0.101/24", "web-guest"),
    _lease(SECRET_MAC, "10.60.0.102/24"),
    _lease(STRANGER_MAC, "10.60.0.103/24", "laptop", expires=0),
]


@pytest.fixture
def lan(db):
    """Network lan on hv1 with VMs web and secret plugged into it (and web on another network
    too, which must not matter)."""
    host = Host.objects.create(name="hv1", uri="test:///hv1")
    net = VirtualNetwork.objects.create(
        host=host, uuid=uuid.uuid4(), name="lan", bridge="virbr-lan", active=True, addresses=["10.60.0.1/24"]
    )
    other = VirtualNetwork.objects.create(host=host, uuid=uuid.uuid4(), name="dmz", bridge="virbr-dmz", active=True)
    web = VirtualMachine.objects.create(host=host, uuid=uuid.uuid4(), name="web", state="running")
    secret = VirtualMachine.objects.create(host=host, uuid=uuid.uuid4(), name="secret-vm", state="running")
    Port.objects.create(vm=web, host=host, mac=WEB_MAC, kind="network", source="lan")
    Port.objects.create(vm=web, host=host, mac="52:54:00:10:00:03", kind="network", source="dmz")
    Port.objects.create(vm=secret, host=host, mac=SECRET_MAC, kind="network", source="lan")
    return {"host": host, "net": net, "other": other, "web": web, "secret": secret}


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _sees_lan_and_web(user, lan):
    viewer = Role.objects.get(name="Viewer")
    grant_add(actor=None, user=user, role=viewer, scope=lan["net"])
    grant_add(actor=None, user=user, role=viewer, scope=lan["web"])
    return user


def _lease_rows(page):
    """{ip: the row's HTML} of the leases table."""
    table = page[page.index('id="network-leases"') :]
    table = table[: table.index("</table>")]
    return {re.search(r"<code>([^<]+)</code>", row).group(1): row for row in table.split("<tr>")[2:]}


# -- the inventory ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_leases_are_stored_and_published_only_when_they_change(lan, django_capture_on_commit_callbacks):
    net = lan["net"]
    with django_capture_on_commit_callbacks() as published:
        network_set_leases(net, LEASES)
    assert VirtualNetwork.objects.get(pk=net.pk).leases == LEASES
    assert len(published) == 1

    with django_capture_on_commit_callbacks() as published:
        network_set_leases(VirtualNetwork.objects.get(pk=net.pk), [dict(x) for x in LEASES])
    assert published == []  # the same leases again: nothing to tell anyone

    with django_capture_on_commit_callbacks() as published:
        network_set_leases(VirtualNetwork.objects.get(pk=net.pk), LEASES[:1])
    assert VirtualNetwork.objects.get(pk=net.pk).leases == LEASES[:1]
    assert len(published) == 1

    # None: the driver keeps no leases (the test driver); stored as none, told once.
    with django_capture_on_commit_callbacks() as published:
        network_set_leases(VirtualNetwork.objects.get(pk=net.pk), None)
    assert VirtualNetwork.objects.get(pk=net.pk).leases == []
    assert len(published) == 1


@pytest.mark.django_db
def test_the_slow_tick_reads_every_running_networks_leases_from_libvirt(demo_host, test_driver):
    """The test driver keeps no leases (libvirt answers "not supported"): the adapter says None
    and the tick stores none, so leases a row held are cleared; a network gone from libvirt
    keeps no leases either."""
    assert handlers.SLOW_TICK >= 5  # leases are re-read on a slow tick, not on every one
    default = VirtualNetwork.objects.get(host=demo_host, name="default", present=True)
    assert default.active
    assert network_virt.leases(test_driver, str(default.uuid)) is None
    VirtualNetwork.objects.filter(pk=default.pk).update(leases=LEASES)
    gone = VirtualNetwork.objects.create(
        host=demo_host, uuid=uuid.uuid4(), name=unique("gone"), active=True, leases=LEASES
    )
    handlers.sync_networks(demo_host, connection.get(TEST_URI))
    assert VirtualNetwork.objects.get(pk=default.pk).leases == []
    gone.refresh_from_db()
    assert (gone.present, gone.leases) == (False, [])


@pytest.mark.django_db(transaction=True)
def test_a_lease_change_reaches_an_open_page_of_whoever_may_see_the_network(lan, outsider):
    from apps.accounts.services import user_create
    from tests.conftest import PASSWORD

    watcher = _sees_lan_and_web(user_create(actor=None, username="watcher", password=PASSWORD)[0], lan)

    def headers(user):
        client = _client(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        return [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]

    watcher_headers, outsider_headers = headers(watcher), headers(outsider)

    async def scenario():
        page = WebsocketCommunicator(application, "/ws/live/", headers=watcher_headers)
        stranger = WebsocketCommunicator(application, "/ws/live/", headers=outsider_headers)
        assert (await page.connect())[0] and (await stranger.connect())[0]
        await sync_to_async(network_set_leases)(lan["net"], LEASES)
        messages = [await page.receive_from(timeout=5), await page.receive_from(timeout=5)]
        nothing = await stranger.receive_nothing(timeout=1)
        await page.disconnect()
        await stranger.disconnect()
        return messages, nothing

    (row, summary), nothing = async_to_sync(scenario)()
    net = lan["net"]
    assert f'id="network-row-{net.pk}"' in row and 'hx-swap-oob="true"' in row
    assert re.search(r'network-leases">\s*3\s*<', row), row
    assert f'id="network-summary-{net.pk}"' in summary
    rows = _lease_rows(summary)
    assert reverse("compute:vm_detail", args=[lan["web"].pk]) in rows["10.60.0.101/24"]
    assert "secret-vm" not in summary
    assert nothing is True


# -- the pages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_lease_links_to_the_vm_whose_nic_has_its_mac(lan, admin):
    network_set_leases(lan["net"], LEASES)
    page = _client(admin).get(reverse("network:network_detail", args=[lan["net"].pk])).content.decode()
    rows = _lease_rows(page)
    assert list(rows) == ["10.60.0.101/24", "10.60.0.102/24", "10.60.0.103/24"]
    web, secret = (reverse("compute:vm_detail", args=[lan[k].pk]) for k in ("web", "secret"))
    assert f'<a href="{web}">web</a>' in rows["10.60.0.101/24"] and "web-guest" in rows["10.60.0.101/24"]
    assert f'<a href="{secret}">secret-vm</a>' in rows["10.60.0.102/24"]
    # A MAC no VM in the inventory has: shown, linked to nothing; a lease that never ends says so.
    assert "<a " not in rows["10.60.0.103/24"] and STRANGER_MAC in rows["10.60.0.103/24"]
    assert "never" in rows["10.60.0.103/24"]
    # The expiry as a time, not libvirt's count of seconds.
    assert "2030" in rows["10.60.0.101/24"] and str(EXPIRES) not in page


@pytest.mark.django_db
def test_a_lease_of_a_vm_the_viewer_may_not_see_names_no_vm(lan, outsider):
    viewer = _sees_lan_and_web(outsider, lan)
    network_set_leases(lan["net"], LEASES)
    page = _client(viewer).get(reverse("network:network_detail", args=[lan["net"].pk])).content.decode()
    rows = _lease_rows(page)
    assert reverse("compute:vm_detail", args=[lan["web"].pk]) in rows["10.60.0.101/24"]
    assert SECRET_MAC in rows["10.60.0.102/24"] and "<a " not in rows["10.60.0.102/24"]
    assert "secret-vm" not in page
    assert reverse("compute:vm_detail", args=[lan["secret"].pk]) not in page


@pytest.mark.django_db
def test_the_list_counts_each_networks_leases(lan, admin):
    network_set_leases(lan["net"], LEASES)
    page = _client(admin).get(reverse("network:network_list")).content.decode()
    assert '<th class="text-end">Leases</th>' in page

    def count(net):
        row = page[page.index(f'id="network-row-{net.pk}"') :]
        row = row[: row.index("</tr>")]
        return re.search(r'network-leases">\s*(\d+)\s*<', row).group(1)

    assert count(lan["net"]) == "3"
    assert count(lan["other"]) == "0"


# -- the real libvirtd --------------------------------------------------------------------------------

DNSMASQ_STATE = Path("/var/lib/libvirt/dnsmasq")


@pytest.mark.qemu
@pytest.mark.django_db
def test_real_libvirtd_gives_an_empty_list_for_no_guest_and_its_leases_in_our_shape(qemu_conn):
    """An isolated network with DHCP and no guest: libvirt's answer is an empty list (not None,
    which means "the driver keeps no leases"). A lease is then put where libvirt's dnsmasq
    helper keeps them (the bridge's .status file, as libvirt_leaseshelper writes it when a guest
    gets an address): libvirt reads it back, the adapter turns it into the inventory's shape and
    the slow tick stores it. No guest and no traffic: the network has no forward device."""
    tag = unique("")[1:7]
    name, bridge = f"kvmweb-test-{tag}", f"kvlease{tag}"
    xml = f"""<network><name>{name}</name><bridge name='{bridge}'/>
<ip address='10.206.99.1' prefix='24'><dhcp><range start='10.206.99.100' end='10.206.99.150'/></dhcp></ip>
</network>"""
    net_uuid = network_virt.define(qemu_conn, xml)
    status = DNSMASQ_STATE / f"{bridge}.status"
    try:
        network_virt.act(qemu_conn, net_uuid, "start")
        assert network_virt.leases(qemu_conn, net_uuid) == []

        wait_for(status.exists, message="dnsmasq's lease helper file")  # written when dnsmasq starts
        expiry = int(time.time()) + 3600
        status.write_text(
            json.dumps(
                [
                    {
                        "ip-address": "10.206.99.120",
                        "mac-address": "52:54:00:AB:CD:01",
                        "hostname": "guest1",
                        "client-id": "01:52:54:00:ab:cd:01",
                        "expiry-time": expiry,
                    }
                ]
            )
        )
        expected = [{"mac": "52:54:00:ab:cd:01", "ip": "10.206.99.120/24", "hostname": "guest1", "expires": expiry}]
        assert network_virt.leases(qemu_conn, net_uuid) == expected

        host = Host.objects.create(name="local", uri=QEMU_URI)
        handlers.sync_networks(host, connection.get(QEMU_URI))
        assert VirtualNetwork.objects.get(host=host, uuid=net_uuid).leases == expected

        network_virt.act(qemu_conn, net_uuid, "stop")
        assert network_virt.leases(qemu_conn, net_uuid) == []  # a stopped network holds none
    finally:
        network_virt.undefine_quietly(qemu_conn, net_uuid)
    assert not status.exists()  # libvirt removes the helper's file with the network
    assert subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0
