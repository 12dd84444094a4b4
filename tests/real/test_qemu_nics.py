"""NICs through the dashboard on a real QEMU domain: a libvirt network, a Linux bridge and macvtap
live, Open vSwitch in the saved configuration, link down, remove.

The test makes its own isolated libvirt network (no addresses, so no dnsmasq), its own Linux
bridge and a veth pair for macvtap, and removes them after. Open vSwitch is not installed here:
libvirt checks the bridge only when the NIC goes live, so the OVS NIC is added with --config and
its XML is checked; adding it live fails with libvirt's own message, which is checked too.
"""

import subprocess

import pytest
from lxml import etree

from apps.compute.models import VirtualMachine
from apps.compute.services import nics as nic_services
from apps.compute.virt import domains, nics
from apps.hosts.services import host_create
from tests.helpers import QEMU_URI, finished, unavailable, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def _ip(*args):
    return subprocess.run(["ip", "link", *args], capture_output=True, text=True)


@pytest.fixture
def host_nets(qemu_conn):
    """(libvirt network, Linux bridge, veth end for macvtap), made for this test."""
    tag = unique("")[1:7]
    bridge, veth, peer = f"kvbr{tag}", f"kvva{tag}", f"kvvb{tag}"
    made = _ip("add", bridge, "type", "bridge")
    if made.returncode:
        unavailable(f"cannot create a Linux bridge here: {made.stderr.strip()}")
    _ip("set", bridge, "up")
    made = _ip("add", veth, "type", "veth", "peer", "name", peer)
    if made.returncode:
        _ip("del", bridge)
        unavailable(f"cannot create a veth pair for macvtap here: {made.stderr.strip()}")
    _ip("set", veth, "up")
    _ip("set", peer, "up")
    root = etree.Element("network")
    etree.SubElement(root, "name").text = f"kvmweb-test-{tag}"
    etree.SubElement(root, "bridge", name=f"kvnt{tag}")
    net = qemu_conn.networkDefineXML(etree.tostring(root, encoding="unicode"))
    net.create()
    yield net.name(), bridge, veth
    net.destroy()
    net.undefine()
    _ip("del", bridge)
    _ip("del", veth)


def _run(op, status="succeeded"):
    op = finished(op)
    assert op.status == status, op.error or op.message
    return op


def _by_mac(conn, uuid, inactive=False):
    return {n.mac: n for n in nics.list_nics(conn, uuid, inactive=inactive)}


def test_nics_of_every_kind_added_linked_down_and_removed(stack, operator, tiny_domain, host_nets, qemu_conn):
    name, dom_uuid = tiny_domain
    network, bridge, veth = host_nets
    domains.power(qemu_conn, dom_uuid, "start")
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=name, state="running").first(), timeout=20)

    mac = "52:54:00:4b:00:01"
    op = _run(nic_services.vm_nic_add(actor=operator, vm=vm, kind="network", source=network, mac=mac))
    live = _by_mac(qemu_conn, dom_uuid)
    assert live[mac].source == network and live[mac].target.startswith("vnet") and live[mac].link == "up"
    assert mac in _by_mac(qemu_conn, dom_uuid, inactive=True)

    op = _run(
        nic_services.vm_nic_add(actor=operator, vm=vm, kind="bridge", source=bridge, model="e1000e", config=False)
    )
    bridge_mac = op.message.split()[2]  # libvirt chose it
    assert _by_mac(qemu_conn, dom_uuid)[bridge_mac].model == "e1000e"
    assert bridge_mac not in _by_mac(qemu_conn, dom_uuid, inactive=True)  # live only
    # the tap device really is a port of the bridge
    assert _ip("show", "master", bridge).stdout.count(_by_mac(qemu_conn, dom_uuid)[bridge_mac].target) == 1

    op = _run(nic_services.vm_nic_add(actor=operator, vm=vm, kind="direct", source=veth, mode="bridge", config=False))
    macvtap = _by_mac(qemu_conn, dom_uuid)[op.message.split()[2]]
    assert (macvtap.kind, macvtap.source, macvtap.mode) == ("direct", veth, "bridge")
    assert macvtap.target.startswith("macvtap")

    op = _run(nic_services.vm_nic_add(actor=operator, vm=vm, kind="ovs", source="ovsbr0", live=False, config=True))
    ovs = _by_mac(qemu_conn, dom_uuid, inactive=True)[op.message.split()[2]]
    assert (ovs.kind, ovs.source) == ("ovs", "ovsbr0")
    op = _run(nic_services.vm_nic_add(actor=operator, vm=vm, kind="bridge", source="nosuchbr0"), "failed")
    assert "nosuchbr0" in op.error  # libvirt's words: the bridge is not there

    _run(nic_services.vm_nic_link(actor=operator, vm=vm, mac=mac, state="down"))
    assert _by_mac(qemu_conn, dom_uuid)[mac].link == "down"
    assert _by_mac(qemu_conn, dom_uuid, inactive=True)[mac].link == "down"
    _run(nic_services.vm_nic_link(actor=operator, vm=vm, mac=mac, state="up", config=False))
    assert _by_mac(qemu_conn, dom_uuid)[mac].link == "up"

    op = _run(nic_services.vm_nic_remove(actor=operator, vm=vm, mac=mac))
    assert mac not in _by_mac(qemu_conn, dom_uuid, inactive=True)
    # Every NIC model kvmweb offers is a PCI device: QEMU removes it only when the guest answers
    # the ACPI eject request, and this guest has no OS to answer. It stays live, and the
    # operation says so.
    assert _by_mac(qemu_conn, dom_uuid)[mac].source == network
    assert op.message == (
        f"NIC {mac} removed from {vm.name}; the running guest has not released it yet, it goes when the guest does"
    )
    op = _run(nic_services.vm_nic_remove(actor=operator, vm=vm, mac=ovs.mac, live=False, config=True))
    assert ovs.mac not in _by_mac(qemu_conn, dom_uuid, inactive=True)
