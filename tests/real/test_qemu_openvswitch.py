"""An Open vSwitch network on the real libvirtd: Open vSwitch runs here with its userspace
datapath (datapath_type=netdev; this kernel has no openvswitch module), scripts/setup starts its
two daemons. A network made by the Open vSwitch form, a tiny QEMU domain's NIC on it: libvirt
adds the NIC's tap as a port of the OVS bridge, and the inventory counts the VM as attached."""

import subprocess

import pytest

from apps.compute.models import VirtualMachine
from apps.compute.services import nics as nic_services
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.network.forms.create import MODE_FORMS, Taken
from apps.network.models import Port, VirtualNetwork
from apps.network.selectors import with_attached
from apps.network.services import networks as services
from tests.helpers import QEMU_URI, finished, unavailable, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def _vsctl(*args):
    return subprocess.run(["ovs-vsctl", "--timeout=5", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def ovs_bridge():
    if _vsctl("show").returncode != 0:
        unavailable("Open vSwitch does not answer here (scripts/setup --test installs and starts it)")
    name = f"kvovs{unique('')[1:7]}"
    made = _vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev")
    if made.returncode != 0:
        unavailable(f"cannot make an Open vSwitch bridge with the userspace datapath: {made.stderr.strip()}")
    yield name
    _vsctl("--if-exists", "del-br", name)


def _ok(op):
    op = finished(op, timeout=90)
    assert op.status == "succeeded", op.error or op.message
    return op


def test_a_vm_nic_on_an_openvswitch_network_is_a_port_of_the_ovs_bridge(
    stack, operator, ovs_bridge, tiny_domain, qemu_conn
):
    dom_name, dom_uuid = tiny_domain
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    name = f"kvmweb-test-{ovs_bridge}"
    form = MODE_FORMS["openvswitch"]({"name": name, "bridge": ovs_bridge, "portgroups": "web vlan=10"}, taken=Taken())
    assert form.is_valid(), form.errors
    try:
        _ok(services.network_create(actor=operator, host=host, name=name, xml=form.to_xml()))
        net = VirtualNetwork.objects.get(host=host, name=name, present=True)
        assert net.active and net.openvswitch and [p["name"] for p in net.portgroups] == ["web"]

        domains.power(qemu_conn, dom_uuid, "start")
        vm = wait_for(
            lambda: VirtualMachine.objects.filter(host=host, name=dom_name, state="running").first(), timeout=20
        )
        _ok(nic_services.vm_nic_add(actor=operator, vm=vm, kind="network", source=name, mac="52:54:00:0f:5e:01"))

        port = wait_for(lambda: Port.objects.filter(vm=vm, kind="network", source=name).first(), message="the port")
        assert port.target and port.target in _vsctl("list-ports", ovs_bridge).stdout.split()
        assert with_attached(VirtualNetwork.objects.filter(pk=net.pk)).get().attached == 1
    finally:
        if qemu_conn.lookupByUUIDString(dom_uuid).isActive():
            domains.power(qemu_conn, dom_uuid, "destroy")
        try:
            libvirt_net = qemu_conn.networkLookupByName(name)
            if libvirt_net.isActive():
                libvirt_net.destroy()
            libvirt_net.undefine()
        except Exception:  # noqa: BLE001 — not made, or gone already
            pass
