"""What the graph routes answer: a VM's and a host's data for a range (and only what is newer
with `since`), the VM list's sparklines and the busiest VMs — of the VMs the user may see only."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, user_create
from apps.compute.stats import recorder
from apps.compute.virt.domains import DomainInfo
from apps.compute.virt.stats import DomainCounters
from apps.hosts.virt.stats import HostCounters
from tests.compute.graphs.graphdata import in_units
from tests.helpers import make_vm


@pytest.fixture(autouse=True)
def fresh_recorder():
    yield
    recorder._hosts.clear()


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _counters(cpu_ns, disk):
    return DomainCounters(1, cpu_ns, 1 << 20, disk, disk, disk // 4096, disk // 4096, 0, 0, 0, 0)


def _ticks(host, shares, *, start, seconds, step=2.0):
    """Ticks of `host` every `step` s for `seconds`, each VM (uuid -> share of one CPU, disk
    bytes per second) as given: what the monitor would have recorded."""
    used = {uuid: [0, 0] for uuid in shares}
    t = start
    while t <= start + seconds:
        infos = []
        for uuid, (share, disk) in shares.items():
            counters = _counters(*used[uuid])
            infos.append(DomainInfo(uuid, "vm", "running", 1, 1 << 20, 1 << 20, counters=counters))
            used[uuid][0] += int(share * step * 1e9)
            used[uuid][1] += int(disk * step)
        recorder._record(host, HostCounters(4, 8 << 20, int(t * 1e9), int(t * 4e9), 1 << 20), infos, t)
        t += step
    return t - step


@pytest.fixture
def two_vms(demo_host):
    """Two running VMs on the demo host, with 20 minutes of measurements up to now: one busy on
    CPU, the other on its disk."""
    busy, disky = make_vm(demo_host, start=True), make_vm(demo_host, start=True)
    now = time.time()
    shares = {str(busy.uuid): (0.9, 0), str(disky.uuid): (0.1, 50 << 20)}
    last = _ticks(demo_host, shares, start=now - 20 * 60, seconds=20 * 60 - 2)
    return busy, disky, last


def test_a_vms_graph_data_and_what_is_newer(admin, two_vms):
    busy, _disky, last = two_vms
    client = _client(admin)
    url = reverse("compute:vm_graphs_data", args=[busy.pk])
    data = in_units(client.get(url, {"range": "15m"}).json())
    assert not data["downsampled"] and 440 <= len(data["t"]) <= 451
    assert set(data["values"]) >= {"cpu", "cpu_host", "memory", "disk_read", "net_rx", "net_tx_pps"}
    assert data["values"]["cpu"][-1] == 90 and data["values"]["cpu_host"][-1] == 22.5
    newer = in_units(client.get(url, {"range": "15m", "since": last - 3}).json())
    assert newer["t"] == [pytest.approx(last - 2), pytest.approx(last)]
    day = in_units(client.get(url, {"range": "24h"}).json())
    assert day["downsampled"] and day["values"]["cpu"][-1] == 90 and day["max"]["cpu"][-1] == 90
    assert client.get(url, {"range": "2y"}).status_code == 400


def test_a_hosts_graph_data(admin, two_vms, demo_host):
    data = in_units(_client(admin).get(reverse("hosts:host_graphs_data", args=[demo_host.pk]), {"range": "1h"}).json())
    assert data["values"]["cpu"][-1] == 25 and len(data["t"]) > 500


def test_the_graphs_tab_names_its_data_and_its_hosts_signal(admin, two_vms):
    busy = two_vms[0]
    html = _client(admin).get(reverse("compute:vm_graphs", args=[busy.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert reverse("compute:vm_graphs_data", args=[busy.pk]) in html
    assert f'data-signal="stats-{busy.host_id}"' in html and "js/graphs.js" in html


def test_sparklines_only_of_vms_the_user_may_see(db, two_vms):
    busy, disky, _ = two_vms
    user, _ = user_create(actor=None, username="vicky", password="correct-horse-battery-staple")
    grant_add(actor=None, user=user, role="VM user", scope=busy)
    lines = _client(user).get(reverse("compute:vm_sparklines"), {"vm": [busy.pk, disky.pk, "x"]}).json()
    assert list(lines) == [str(busy.pk)]
    line = lines[str(busy.pk)]
    assert len(line) == 31 and line[-3] == 90  # per minute; the minute in progress is not averaged yet


def test_the_busiest_vms_by_cpu_and_by_disk_of_those_the_user_may_see(admin, db, two_vms):
    busy, disky, _ = two_vms
    page = _client(admin).get(reverse("compute:vm_busiest"))
    cpu, disk, _net = page.context["rankings"]
    assert [vm.pk for vm, _ in cpu[2]] == [busy.pk, disky.pk]
    assert [vm.pk for vm, _ in disk[2]] == [disky.pk]  # the other read and wrote nothing
    assert _net[2] == []
    assert disk[2][0][1].values["disk_write"] == pytest.approx(50 << 20, rel=2e-3)
    user, _ = user_create(actor=None, username="vicky", password="correct-horse-battery-staple")
    grant_add(actor=None, user=user, role="VM user", scope=disky)
    mine = _client(user).get(reverse("compute:vm_busiest"))
    assert [[vm.pk for vm, _ in rows] for _key, _label, rows in mine.context["rankings"]] == [[disky.pk]] * 2 + [[]]
    assert busy.name not in mine.content.decode()
