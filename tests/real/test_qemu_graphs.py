"""Graphs of real QEMU domains: the monitor's tick measures a guest that keeps its vCPU busy above
the same guest paused, and the graph's points arrive as ticks run.

The busy guest is the console test guest (tests/consoles_guest.py) booted with `idle=poll`: its
kernel spins instead of halting when it has nothing to do, so its vCPU is busy from the first
instruction to the last, however far its boot has got on a slow machine. The idle one is the same
guest, paused: QEMU runs (and answers the monitor's queries), the vCPU does not.
"""

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from apps.compute import handlers
from apps.compute.models import VirtualMachine
from apps.compute.stats import recorder
from apps.compute.virt import domains
from apps.hosts.models import Host
from tests import consoles_guest
from tests.compute.graphs.graphdata import in_units
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.qemu]


def _define_busy(conn, name):
    xml = consoles_guest.domain_xml(name, domain_type="qemu", vnc=False)
    root = etree.fromstring(xml)
    root.find("os/cmdline").text = "console=ttyS0 idle=poll no_timer_check"
    return domains.define(conn, etree.tostring(root, encoding="unicode"))


@pytest.fixture
def guests(qemu_conn):
    """(busy uuid, paused uuid), both started; removed afterwards."""
    consoles_guest.require_built()
    made = []
    try:
        for _ in range(2):
            made.append(_define_busy(qemu_conn, unique("kvmweb-graphs")))
            domains.power(qemu_conn, made[-1], "start")
        domains.power(qemu_conn, made[1], "suspend")
        yield made
    finally:
        for dom_uuid in made:
            consoles_guest.undefine(qemu_conn, dom_uuid)
        recorder._hosts.clear()


def _cpu(client, vm):
    data = in_units(client.get(reverse("compute:vm_graphs_data", args=[vm.pk]), {"range": "15m"}).json())
    return data["values"]["cpu"], data["values"]["memory"]


def test_a_busy_guest_uses_more_cpu_than_a_paused_one(db, admin, qemu_conn, guests):
    host = Host.objects.create(name=unique("local"), uri=QEMU_URI)
    busy_uuid, paused_uuid = guests
    client = Client()
    client.force_login(admin)

    def tick():
        # One monitor tick of the host: its bulk call, the inventory, the series. Then the graphs
        # as the page reads them, once both have three points (a point per tick after the first).
        handlers.sync_all(host, qemu_conn)
        vms = VirtualMachine.objects.filter(host=host, uuid__in=guests)
        if vms.count() < 2:
            return None
        cpus = {str(vm.uuid): _cpu(client, vm) for vm in vms}
        return cpus if all(len(cpu) >= 3 for cpu, _mem in cpus.values()) else None

    cpus = wait_for(tick, timeout=30, interval=1.0, message="three ticks of both guests")
    busy, busy_memory = cpus[busy_uuid]
    paused, _ = cpus[paused_uuid]
    assert max(paused) < 2, paused  # QEMU's main loop, answering the monitor's queries
    assert min(busy) > 5, busy  # its share of one vCPU, however loaded the machine
    assert min(busy) > max(paused)
    assert all(0 < m <= 300 * 2**20 for m in busy_memory)  # QEMU's resident memory, within its 256 MiB and QEMU's own
