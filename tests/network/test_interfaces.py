"""A host's interfaces: the adapter on the test driver and on this machine's own `ip -j` output,
parsing of `ip -j -d link` samples (bridge, bond, VLAN, Open vSwitch, macvtap, tap: the bridge,
veth, macvtap and tap lines were captured from a network namespace, the rest follow iproute2's
format) and of node devices with SR-IOV, and the inventory sync the monitor runs."""

import json
import subprocess
from pathlib import Path

import pytest

from apps.core.errors import VirtError
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.network.interfaces import NOT_OFFERED, interface_names, interfaces_sync, is_local, sync_interfaces
from apps.network.models import HostInterface
from apps.network.virt import interfaces as adapter
from apps.network.virt.interfaces import HostIface, from_ip, from_libvirt_interfaces, from_node_devices
from apps.network.virt.nodedev_xml import InterfaceDef
from tests.helpers import QEMU_URI, TEST_URI, unavailable

SAMPLES = Path(__file__).parent / "samples"


def _ip_samples():
    return json.loads((SAMPLES / "ip-link.json").read_text()), json.loads((SAMPLES / "ip-addr.json").read_text())


class _Obj:
    """A node device or interface as libvirt-python hands it over: only XMLDesc is read."""

    def __init__(self, xml):
        self.xml = xml

    def XMLDesc(self, flags=0):  # noqa: N802 — libvirt's name
        return self.xml


CAP_NET, CAP_PCI = 16, 2  # libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET / _PCI_DEV (tests import no libvirt)


class _Conn:
    """Node devices and interfaces no machine here has (SR-IOV NICs, bonds): the test driver keeps
    no net node devices, and this machine has no SR-IOV hardware."""

    def __init__(self, devices=(), interfaces=()):
        self.devices, self.interfaces = devices, interfaces

    def listAllDevices(self, flags):  # noqa: N802
        cap = {CAP_NET: "net", CAP_PCI: "pci"}
        return [_Obj(x) for x in self.devices if f"<capability type='{cap[flags]}'>" in x]

    def listAllInterfaces(self, flags):  # noqa: N802
        return [_Obj(x) for x in self.interfaces]


PF = """<device>
  <name>pci_0000_03_00_0</name>
  <path>/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.0</path>
  <parent>pci_0000_00_02_0</parent>
  <driver><name>igb</name></driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain><bus>3</bus><slot>0</slot><function>0</function>
    <product id='0x10c9'>82576 Gigabit Network Connection</product>
    <vendor id='0x8086'>Intel Corporation</vendor>
    <capability type='virt_functions' maxCount='7'>
      <address domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>
      <address domain='0x0000' bus='0x03' slot='0x10' function='0x2'/>
    </capability>
  </capability>
</device>"""


def _vf(function, driver):
    return f"""<device>
  <name>pci_0000_03_10_{function}</name>
  <parent>pci_0000_00_02_0</parent>
  <driver><name>{driver}</name></driver>
  <capability type='pci'>
    <domain>0</domain><bus>3</bus><slot>16</slot><function>{function}</function>
    <capability type='phys_function'>
      <address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </capability>
  </capability>
</device>"""


def _net(name, parent, mac, link="<link speed='1000' state='up'/>", path="/sys/devices/pci0000:00/x/net/"):
    return f"""<device>
  <name>net_{name}_{mac.replace(":", "_")}</name>
  <path>{path}{name}</path>
  <parent>{parent}</parent>
  <capability type='net'>
    <interface>{name}</interface>
    <address>{mac}</address>
    {link}
    <capability type='80203'/>
  </capability>
</device>"""


# -- the test driver and this machine -------------------------------------------------------------


def test_the_test_driver_has_no_net_node_devices_but_an_interface_definition(test_driver):
    conn = connection.get(TEST_URI)
    assert from_node_devices(conn) == {}
    eth1 = {i.name: i for i in adapter.list_interfaces(conn, local=False)}["eth1"]
    assert (eth1.kind, eth1.mac, eth1.mtu, eth1.addresses) == (
        "ethernet",
        "aa:bb:cc:dd:ee:ff",
        1492,
        ("192.168.0.5/24",),
    )


def test_on_this_machine_ip_describes_every_interface(test_driver):
    names = {link["ifname"] for link in json.loads(subprocess.check_output(["ip", "-j", "link"]))}
    found = {i.name: i for i in adapter.list_interfaces(connection.get(TEST_URI), local=True)}
    assert set(found) == names
    assert found["lo"].kind == "loopback" and found["lo"].mac == "" and "127.0.0.1/8" in found["lo"].addresses
    assert all(i.mtu for i in found.values())
    assert all(isinstance(i, HostIface) for i in found.values())


def test_qemu_node_devices_give_the_pci_driver_of_a_nic():
    try:
        conn = connection.get(QEMU_URI)
    except VirtError as exc:
        unavailable(f"libvirtd's QEMU driver: {exc}")
    found = from_node_devices(conn)
    assert "lo" in found and found["lo"].kind == "loopback"
    hardware = [i for i in found.values() if i.kind == "ethernet"]
    assert hardware and all(i.pci_address and i.driver for i in hardware)
    local = {i.name: i for i in adapter.list_interfaces(conn, local=True)}
    assert all(local[i.name].driver == i.driver for i in hardware)  # ip adds to libvirt, keeps its driver


# -- `ip -j` samples ------------------------------------------------------------------------------


def test_ip_kinds_masters_vlans_and_addresses():
    found = from_ip(*_ip_samples())
    kinds = {name: i.kind for name, i in found.items()}
    assert kinds == {
        "lo": "loopback",
        "br0": "bridge",
        "ve0": "other",
        "ve1": "other",
        "mv0": "other",
        "mvt0": "macvtap",
        "tap0": "tap",
        "eth1": "ethernet",
        "eth2": "ethernet",
        "bond0": "bond",
        "bond0.100": "vlan",
        "br-vlan100": "bridge",
        "ovs-system": "openvswitch",
        "br-ovs": "openvswitch",
        "eth3": "ethernet",
    }
    assert found["ve0"].master == "br0" and found["ve0"].parent == ""  # a veth's link is its peer
    assert found["mvt0"].parent == "ve1"
    assert (found["eth1"].master, found["eth2"].master) == ("bond0", "bond0")
    vlan = found["bond0.100"]
    assert (vlan.vlan_id, vlan.parent, vlan.master) == (100, "bond0", "br-vlan100")
    assert found["eth3"].master == "ovs-system"
    assert found["br-vlan100"].addresses == ("192.0.2.10/24", "fe80::5054:ff:feaa:1/64")
    assert found["br0"].addresses[0] == "10.99.0.1/24" and found["br0"].state == "up"
    assert found["br-ovs"].state == "unknown" and found["tap0"].state == "down"
    assert found["lo"].mac == "" and found["bond0"].mac == "52:54:00:aa:00:01"


def test_ip_output_that_is_not_what_was_expected_is_read_as_far_as_it_goes():
    found = from_ip([{"ifname": "x0"}, {"no": "name"}, {"ifname": "v5", "linkinfo": {"info_kind": "vlan"}}], [{}])
    assert found["x0"].kind == "other" and found["x0"].mtu is None
    assert found["v5"].kind == "vlan" and found["v5"].vlan_id is None


def test_local_listing_merges_ip_over_libvirt(monkeypatch):
    links, addrs = _ip_samples()
    monkeypatch.setattr(adapter, "_ip_json", lambda *args: links if "link" in args else addrs)
    monkeypatch.setattr(adapter, "read_speed", lambda name: 10000 if name == "eth3" else None)
    conn = _Conn(
        devices=[
            _net("eth1", "pci_0000_03_00_0", "52:54:00:AA:00:01"),
            PF,
            _net("gone0", "computer", "52:54:00:aa:00:09"),
        ]
    )
    found = {i.name: i for i in adapter.list_interfaces(conn, local=True)}
    assert "gone0" not in found  # libvirt's listing lags; the machine has no such interface
    eth1 = found["eth1"]
    assert (eth1.kind, eth1.master, eth1.driver, eth1.speed_mbps, eth1.sriov_total) == (
        "ethernet",
        "bond0",
        "igb",
        1000,
        7,
    )
    assert found["eth3"].speed_mbps == 10000


# -- node devices and interface definitions -------------------------------------------------------


def test_sriov_pf_counts_its_vfs_and_the_ones_guests_hold():
    conn = _Conn(
        devices=[
            PF,
            _vf(0, "igbvf"),
            _vf(2, "vfio-pci"),  # detached for a guest: no net device
            _net("enp3s0f0", "pci_0000_03_00_0", "52:54:00:00:00:01"),
            _net("enp3s16", "pci_0000_03_10_0", "52:54:00:00:00:02", link="<link speed='4294967295' state='down'/>"),
            _net(
                "virbr0",
                "computer",
                "52:54:00:00:00:03",
                link="<link state='unknown'/>",
                path="/sys/devices/virtual/net/",
            ),
        ]
    )
    found = from_node_devices(conn)
    pf = found["enp3s0f0"]
    assert (pf.kind, pf.driver, pf.pci_address, pf.speed_mbps, pf.state) == (
        "ethernet",
        "igb",
        "0000:03:00.0",
        1000,
        "up",
    )
    assert (pf.sriov_total, pf.sriov_used) == (7, 1)
    vf = found["enp3s16"]
    assert (vf.kind, vf.parent, vf.driver, vf.pci_address, vf.speed_mbps) == (
        "sriov-vf",
        "enp3s0f0",
        "igbvf",
        "0000:03:10.0",
        None,
    )
    assert found["virbr0"].kind == "other" and found["virbr0"].pci_address == ""


BRIDGE = """<interface type='bridge' name='br0'>
  <start mode='onboot'/>
  <mtu size='9000'/>
  <protocol family='ipv4'><ip address='10.0.0.5' prefix='24'/></protocol>
  <protocol family='ipv6'><ip address='2001:db8::5' prefix='64'/></protocol>
  <bridge stp='off' delay='0.01'>
    <interface type='bond' name='bond0'>
      <bond mode='active-backup'>
        <interface type='ethernet' name='eth1'/>
        <interface type='ethernet' name='eth2'/>
      </bond>
    </interface>
  </bridge>
</interface>"""
BOND = """<interface type='bond' name='bond0'>
  <link speed='20000' state='up'/>
  <bond mode='active-backup'>
    <miimon freq='100' updelay='10' carrier='ioctl'/>
    <interface type='ethernet' name='eth1'><mac address='AB:BB:CC:DD:EE:FF'/></interface>
    <interface type='ethernet' name='eth2'><mac address='AB:BB:CC:DD:EE:FA'/></interface>
  </bond>
</interface>"""
VLAN = """<interface type='vlan' name='eth0.42'>
  <start mode='onboot'/>
  <vlan tag='42'><interface name='eth0'/></vlan>
</interface>"""


def test_libvirt_interface_definitions_give_bridges_bonds_and_vlans_on_a_remote_host():
    found = from_libvirt_interfaces(_Conn(interfaces=[BRIDGE, BOND, VLAN]))
    assert found["br0"].kind == "bridge" and found["br0"].mtu == 9000
    assert found["br0"].addresses == ("10.0.0.5/24", "2001:db8::5/64")
    assert (found["bond0"].kind, found["bond0"].master, found["bond0"].speed_mbps) == ("bond", "br0", 20000)
    assert (found["eth0.42"].kind, found["eth0.42"].vlan_id, found["eth0.42"].parent) == ("vlan", 42, "eth0")
    assert InterfaceDef.parse(BOND).bond_members[0].name == "eth1"


def test_a_connection_that_is_gone_is_a_virt_error_not_an_empty_host(test_driver):
    conn = connection.open_connection(TEST_URI)
    conn.close()
    with pytest.raises(VirtError):  # an empty listing would delete the host's rows
        adapter.list_interfaces(conn, local=False)


# -- the inventory --------------------------------------------------------------------------------


@pytest.fixture
def host(db):
    return Host.objects.create(name="ifaces", uri="test:///x")


def _iface(name, **kw):
    return HostIface(name=name, **kw)


@pytest.mark.django_db
def test_sync_writes_only_what_changed_and_tells_the_diagram(host, django_capture_on_commit_callbacks):
    first = [_iface("eth0", kind="ethernet", state="up", addresses=("10.0.0.5/24",)), _iface("lo", kind="loopback")]
    with django_capture_on_commit_callbacks() as published:
        assert interfaces_sync(host=host, infos=first) is True
    assert len(published) == 1
    eth0 = HostInterface.objects.get(host=host, name="eth0")
    assert eth0.addresses == ["10.0.0.5/24"] and eth0.kind == "ethernet"

    with django_capture_on_commit_callbacks() as published:
        assert interfaces_sync(host=host, infos=first) is False
    assert published == []
    assert HostInterface.objects.get(pk=eth0.pk).updated_at == eth0.updated_at

    second = [_iface("eth0", kind="ethernet", state="down", addresses=("10.0.0.5/24",)), _iface("vnet0", kind="tap")]
    with django_capture_on_commit_callbacks() as published:
        assert interfaces_sync(host=host, infos=second) is True
    assert len(published) == 1
    assert HostInterface.objects.get(pk=eth0.pk).state == "down"  # the same row, updated
    assert sorted(HostInterface.objects.filter(host=host).values_list("name", flat=True)) == ["eth0", "vnet0"]
    assert interface_names(host) == ["eth0"]  # not the VMs' taps, nor loopback


@pytest.mark.django_db
def test_the_monitor_handler_reads_the_test_driver(test_driver):
    host = Host.objects.create(name="remote-test", uri="test+tcp://example.invalid/default")
    assert not is_local(host)
    sync_interfaces(host, connection.get(TEST_URI))
    assert interface_names(host) == ["eth1"]
    local = Host.objects.create(name="local-test", uri=TEST_URI)
    assert is_local(local)
    sync_interfaces(local, connection.get(TEST_URI))
    links = json.loads(subprocess.check_output(["ip", "-j", "-d", "link"]))
    expected = {name for name, i in from_ip(links, []).items() if i.kind not in NOT_OFFERED}
    assert set(interface_names(local)) == expected  # this machine's, not the test driver's eth1
