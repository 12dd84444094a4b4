"""Networks on the real libvirtd: isolated and routed networks with DHCP come up (a bridge and
dnsmasq appear), a tiny QEMU domain plugged into one counts as attached and holds a port of it,
static hosts added live reach the running definition, and a network in use refuses deletion.

Nothing leaves the machine: the networks have no forward device, the routed one's subnet is a
private one no host here routes, the IP forwarding switch libvirt turns on for it is put back,
and every bridge is removed.
"""

import subprocess
from pathlib import Path

import pytest

from apps.compute.models import VirtualMachine
from apps.compute.services import nics as nic_services
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.network.forms.dhcp import DhcpHostForm
from apps.network.models import VirtualNetwork
from apps.network.selectors import with_attached
from apps.network.services import networks as services
from apps.network.virt import networks as network_virt
from tests.helpers import QEMU_URI, finished, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")


def _xml(name, bridge, third, *, routed=False):
    forward = "<forward mode='route'/>" if routed else ""
    return f"""<network><name>{name}</name>{forward}<bridge name='{bridge}'/>
<ip address='10.{third}.99.1' prefix='24'><dhcp><range start='10.{third}.99.100' end='10.{third}.99.150'/></dhcp></ip>
</network>"""


def _ok(op):
    op = finished(op, timeout=90)
    assert op.status == "succeeded", op.error or op.message
    return op


def _link_exists(name):
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def _dnsmasq_for(name):
    return subprocess.run(["pgrep", "-f", f"dnsmasq/{name}.conf"], capture_output=True).returncode == 0


@pytest.fixture
def cleanup(qemu_conn):
    names = []
    forwarding = FORWARDING.read_text() if FORWARDING.exists() else None
    yield names
    for name in names:
        try:
            net = qemu_conn.networkLookupByName(name)
        except Exception:  # noqa: BLE001 — already gone
            continue
        if net.isActive():
            net.destroy()
        if net.isPersistent():
            net.undefine()
    if forwarding is not None and FORWARDING.read_text() != forwarding:
        FORWARDING.write_text(forwarding)


@pytest.mark.parametrize("routed", [False, True], ids=["isolated", "routed"])
def test_a_network_with_dhcp_starts_with_its_bridge_and_dnsmasq(stack, operator, cleanup, routed):
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    tag = unique("")[1:7]
    name, bridge = f"kvmweb-test-{tag}", f"kvnet{tag}"
    cleanup.append(name)
    _ok(
        services.network_create(
            actor=operator, host=host, name=name, xml=_xml(name, bridge, 201 if routed else 202, routed=routed)
        )
    )
    net = VirtualNetwork.objects.get(host=host, name=name, present=True)
    assert net.active and net.forward_mode == ("route" if routed else "isolated")
    assert _link_exists(bridge) and _dnsmasq_for(name)

    # An edited definition is saved now and taken at the next start.
    third = 201 if routed else 202
    edited = _xml(name, bridge, third, routed=routed).replace(f"10.{third}.99.150", f"10.{third}.99.120")
    edited = edited.replace("</name>", f"</name><uuid>{net.uuid}</uuid>", 1)
    _ok(services.network_edit(actor=operator, network=net, xml=edited))
    _ok(services.network_action(actor=operator, network=net, action="stop"))
    assert not _dnsmasq_for(name)
    _ok(services.network_action(actor=operator, network=net, action="start"))
    net.refresh_from_db()
    assert net.active and net.dhcp_ranges == [{"start": f"10.{third}.99.100", "end": f"10.{third}.99.120"}]

    _ok(services.network_delete(actor=operator, network=net))
    assert not _link_exists(bridge) and not _dnsmasq_for(name)


def test_a_domain_on_a_network_is_attached_holds_a_port_and_blocks_deletion(
    stack, operator, cleanup, tiny_domain, qemu_conn
):
    dom_name, dom_uuid = tiny_domain
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    tag = unique("")[1:7]
    name, bridge = f"kvmweb-test-{tag}", f"kvnet{tag}"
    cleanup.append(name)
    _ok(services.network_create(actor=operator, host=host, name=name, xml=_xml(name, bridge, 203)))
    net = VirtualNetwork.objects.get(host=host, name=name, present=True)

    domains.power(qemu_conn, dom_uuid, "start")
    vm = wait_for(lambda: VirtualMachine.objects.filter(host=host, name=dom_name, state="running").first(), timeout=20)
    mac = "52:54:00:4e:00:01"
    _ok(nic_services.vm_nic_add(actor=operator, vm=vm, kind="network", source=name, mac=mac))

    # The inventory counts it (the device-added event brings the live NIC in) and libvirt holds a port.
    wait_for(lambda: with_attached(VirtualNetwork.objects.filter(pk=net.pk)).get().attached == 1, message="attached")
    assert network_virt.users(qemu_conn, str(net.uuid)) == {dom_uuid: dom_name}
    ports = [p.XMLDesc(0) for p in qemu_conn.networkLookupByName(name).listAllPorts(0)]
    assert any(mac in xml for xml in ports)

    # A static host added live is in the running definition at once.
    form = DhcpHostForm(
        {"mac": "52:54:00:4e:00:02", "ip": "10.203.99.20", "name": "fixed"}, subnet_cidrs=net.addresses, existing=[]
    )
    assert form.is_valid(), form.errors
    _ok(services.network_update(actor=operator, network=net, section="dhcp_host", command="add", xml=form.to_xml()))
    assert "52:54:00:4e:00:02" in qemu_conn.networkLookupByName(name).XMLDesc(0)

    # In use: refused with the VM's name, in the request and (had it got past) on the worker.
    with pytest.raises(services.NetworkError, match=dom_name):
        services.network_delete(actor=operator, network=net)
    assert qemu_conn.networkLookupByName(name).isActive()
    domains.power(qemu_conn, dom_uuid, "destroy")
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "shutoff", message="the VM seen off")
    # Its saved NIC still counts as attached; a VM that is off holds nothing.
    assert with_attached(VirtualNetwork.objects.filter(pk=net.pk)).get().attached == 1
    _ok(services.network_delete(actor=operator, network=VirtualNetwork.objects.get(pk=net.pk)))
    assert not _link_exists(bridge)
