"""The wiring diagram and the interfaces page, from inventory rows (no libvirt): the chain a VM's
NIC makes to the host's interfaces, what a user may not see left out, the focus that lights a
wire, the query count whatever the number of rows, and who gets the pages and the live signal."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, team_create, team_member_add
from apps.authz.models import Role
from apps.compute.models import VirtualMachine
from apps.core import realtime
from apps.hosts.models import Host
from apps.network.models import HostInterface, Port, VirtualNetwork
from apps.network.wiring import render_wiring, wiring

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def host(db):
    return Host.objects.create(name="hv1", uri="test:///hv1")


def _net(host, name, **kw):
    kw.setdefault("bridge", f"virbr-{name}"[:15])
    return VirtualNetwork.objects.create(host=host, uuid=uuid.uuid4(), name=name, **kw)


def _vm(host, name, state="running"):
    return VirtualMachine.objects.create(host=host, uuid=uuid.uuid4(), name=name, state=state)


def _port(vm, kind, source, n=1, **kw):
    return Port.objects.create(
        vm=vm, host=vm.host, mac=f"52:54:00:00:{vm.pk % 256:02x}:{n:02x}", kind=kind, source=source, **kw
    )


def _iface(host, name, **kw):
    return HostInterface.objects.create(host=host, name=name, **kw)


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _edges(diagram):
    return {(e.a.key, e.b.key) for e in diagram.edges}


@pytest.fixture
def bridged(host):
    """eth0 in br0; network "lan" forwards to br0 (host bridge mode); web on lan, db straight on
    br0 (the same wire), and a NAT network "nat" with app on it."""
    _iface(host, "eth0", kind="ethernet", state="up", master="br0", speed_mbps=1000)
    _iface(host, "br0", kind="bridge", state="up")
    _iface(host, "vnet0", kind="tap", master="br0")
    _iface(host, "ifb0", kind="other")
    lan = _net(host, "lan", forward_mode="bridge", bridge="br0", active=True)
    nat = _net(host, "nat", forward_mode="nat", bridge="virbr1", active=False)
    web, db, app = _vm(host, "web"), _vm(host, "db", "shutoff"), _vm(host, "app")
    p_web = _port(web, "network", "lan", target="vnet0")
    p_db = _port(db, "bridge", "br0", link_up=False)
    p_app = _port(app, "network", "nat")
    return {"lan": lan, "nat": nat, "web": web, "db": db, "app": app, "p_web": p_web, "p_db": p_db, "p_app": p_app}


def test_a_vm_on_a_network_on_a_bridge_shows_the_chain(host, bridged, admin):
    d = wiring(admin, host)
    lan, web, p_web = bridged["lan"], bridged["web"], bridged["p_web"]
    nodes = {n.key: n for n in d.nodes}
    assert {
        ("iface-eth0", f"network-{lan.pk}"),
        (f"network-{lan.pk}", f"nic-{p_web.pk}"),
        (f"nic-{p_web.pk}", f"vm-{web.pk}"),
    } <= _edges(d)
    # db's NIC sits on br0 directly: the same wire as the network that owns br0, not a box of its own
    assert (f"network-{lan.pk}", f"nic-{bridged['p_db'].pk}") in _edges(d)
    assert "bridge-br0" not in nodes
    # the VMs' taps and software devices are not ways out of the host
    assert "iface-vnet0" not in nodes and "iface-ifb0" not in nodes
    assert [n.column for n in (nodes["iface-eth0"], nodes[f"network-{lan.pk}"], nodes[f"nic-{p_web.pk}"])] == [0, 1, 2]
    # state colours: an inactive network, a shut-off VM, a NIC whose link is down
    assert nodes[f"network-{bridged['nat'].pk}"].state == "off"
    assert nodes[f"network-{lan.pk}"].state == "ok" and nodes["iface-eth0"].state == "ok"
    assert nodes[f"vm-{bridged['db'].pk}"].state == "off" and nodes[f"nic-{bridged['p_db'].pk}"].state == "bad"
    assert next(e for e in d.edges if e.b.key == f"nic-{bridged['p_db'].pk}").down
    # each node links to its page
    assert nodes[f"network-{lan.pk}"].href == reverse("network:network_detail", args=[lan.pk])
    assert nodes[f"vm-{web.pk}"].href == reverse("compute:vm_detail", args=[web.pk])
    assert nodes["iface-eth0"].href == reverse("network:host_interfaces", args=[host.pk]) + "#iface-eth0"
    # nothing overlaps within a column, and lines go left to right
    for column in range(4):
        ys = sorted(n.y for n in d.nodes if n.column == column)
        assert all(b - a >= 40 for a, b in zip(ys, ys[1:], strict=False))
    assert all(e.a.x < e.b.x for e in d.edges)


def test_bonds_vlans_macvtap_and_sriov_wires(host, admin):
    _iface(host, "eth1", kind="ethernet", master="bond0")
    _iface(host, "eth2", kind="ethernet", master="bond0")
    _iface(host, "bond0", kind="bond", state="up")
    _iface(host, "bond0.100", kind="vlan", vlan_id=100, parent="bond0", master="br100")
    _iface(host, "br100", kind="bridge", state="up")
    _iface(host, "br-ovs", kind="openvswitch", state="unknown")
    _iface(host, "ovs-system", kind="openvswitch")
    _iface(host, "enp3s0f0", kind="ethernet", sriov_total=7, sriov_used=1, pci_address="0000:03:00.0")
    vm = _vm(host, "edge")
    on_vlan = _port(vm, "bridge", "br100", 1)
    on_ovs = _port(vm, "bridge", "br-ovs", 2, openvswitch=True)
    macvtap = _port(vm, "direct", "enp3s0f0", 3)
    vf = _port(vm, "hostdev", "0000:03:10.2", 4)
    user_mode = _port(vm, "user", "", 5)
    d = wiring(admin, host)
    nodes = {n.key: n for n in d.nodes}
    assert "iface-eth1" not in nodes and nodes["iface-bond0"].detail.startswith("bond of eth1, eth2")
    assert nodes["iface-bond0.100"].detail == "VLAN 100 on bond0"
    assert ("iface-bond0.100", "bridge-br100") in _edges(d)
    assert nodes["bridge-br-ovs"].detail == "Open vSwitch bridge" and "bridge-ovs-system" not in nodes
    assert ("iface-enp3s0f0", "macvtap-enp3s0f0") in _edges(d)
    wires = {e.a.key for e in d.edges if e.b.key.startswith("nic-")}
    assert wires == {"bridge-br100", "bridge-br-ovs", "macvtap-enp3s0f0", "hostdev-0000:03:10.2", "other-user"}
    assert len([n for n in d.nodes if n.column == 2]) == len({on_vlan, on_ovs, macvtap, vf, user_mode})
    assert nodes["other-user"].href == ""


def test_another_teams_vm_and_a_network_one_may_not_see_are_left_out(host, bridged, outsider):
    blue = team_create(actor=None, name="blue")
    team_member_add(actor=None, team=blue, user=outsider)
    viewer = Role.objects.get(name="Viewer")
    grant_add(actor=None, team=blue, role=viewer, scope=bridged["lan"])
    grant_add(actor=None, team=blue, role=viewer, scope=bridged["web"])
    red_vm = _vm(host, "red-secret")
    _port(red_vm, "network", "lan")
    d = wiring(outsider, host)
    keys = {n.key for n in d.nodes}
    assert f"vm-{bridged['web'].pk}" in keys
    assert f"vm-{red_vm.pk}" not in keys and f"vm-{bridged['db'].pk}" not in keys
    assert f"network-{bridged['nat'].pk}" not in keys
    assert d.hidden_nics == 3  # red's and db's NICs (VMs not granted), app's (on nat, not granted)
    assert "red-secret" not in str([n.label for n in d.nodes])


def test_the_focus_lights_everything_on_the_same_wire(host, bridged, admin):
    lan, web, db, app = bridged["lan"], bridged["web"], bridged["db"], bridged["app"]
    d = wiring(admin, host, focus=f"vm-{web.pk}")
    lit = {n.key for n in d.nodes if n.lit}
    assert {f"vm-{web.pk}", f"network-{lan.pk}", "iface-eth0", f"vm-{db.pk}"} <= lit  # db is on br0 too
    assert f"vm-{app.pk}" not in lit and f"network-{bridged['nat'].pk}" not in lit
    assert all(e.lit == (e.a.lit and e.b.lit) for e in d.edges)
    d = wiring(admin, host, focus=f"network-{bridged['nat'].pk}")
    assert {n.key for n in d.nodes if n.lit} == {
        f"network-{bridged['nat'].pk}",
        f"nic-{bridged['p_app'].pk}",
        f"vm-{app.pk}",
    }
    assert wiring(admin, host, focus="vm-999999").focus == ""
    # what the page was opened for is at its top
    d = wiring(admin, host, focus=f"network-{bridged['nat'].pk}")
    top = min((n for n in d.nodes if n.column == 1), key=lambda n: n.y)
    assert top.key == f"network-{bridged['nat'].pk}"


def _fill(host, n):
    """n more networks with a VM each (one NIC on the network, one on a host bridge)."""
    HostInterface.objects.get_or_create(host=host, name="eth0", defaults={"kind": "ethernet", "master": "br0"})
    HostInterface.objects.get_or_create(host=host, name="br0", defaults={"kind": "bridge"})
    start = VirtualNetwork.objects.filter(host=host).count()
    for i in range(start, start + n):
        net = _net(host, f"n{i}", forward_mode="nat" if i % 2 else "isolated", devices=["eth0"] if i % 3 else [])
        vm = _vm(host, f"vm{i}", "running" if i % 2 else "shutoff")
        _port(vm, "network", net.name, 1)
        _port(vm, "bridge", "br0", 2)


@pytest.mark.parametrize("n", [5, 50])
def test_the_diagram_costs_the_same_queries_for_5_or_50_networks_and_ports(
    host, admin, operator, n, django_assert_max_num_queries
):
    _fill(host, n)
    for user in (admin, operator):
        with django_assert_max_num_queries(5):
            d = wiring(user, host)
        assert len([x for x in d.nodes if x.column == 2]) == 2 * n


def test_the_pages_cost_the_same_queries_for_5_or_50_networks_and_ports(host, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = _client(operator)
    counts = []
    for total in (5, 50):
        _fill(host, total - len(VirtualNetwork.objects.filter(host=host)))
        for name in ("network:host_wiring", "network:host_interfaces"):
            with CaptureQueriesContext(connection) as queries:
                assert c.get(reverse(name, args=[host.pk])).status_code == 200
            counts.append(len(queries))
    assert counts[:2] == counts[2:], counts


def test_the_pages_answer_a_viewer_of_the_host_and_404_for_others(host, bridged, viewer, outsider):
    for name in ("network:host_interfaces", "network:host_wiring"):
        url = reverse(name, args=[host.pk])
        assert _client(viewer).get(url).status_code == 200
        assert _client(outsider).get(url).status_code == 404
        assert _client(viewer).get(reverse(name, args=[host.pk + 1000])).status_code == 404
    page = (
        _client(viewer).get(reverse("network:host_wiring", args=[host.pk]), {"vm": bridged["web"].pk}).content.decode()
    )
    assert "<svg" in page and f'data-node="vm-{bridged["web"].pk}"' in page and "wiring-focused" in page
    assert f'id="wiring-{host.pk}"' in page and f"kv:wiring-{host.pk} from:body" in page
    assert reverse("compute:vm_detail", args=[bridged["web"].pk]) in page


def test_the_interfaces_page_says_what_each_interface_is_used_for(host, bridged, viewer):
    page = _client(viewer).get(reverse("network:host_interfaces", args=[host.pk])).content.decode()
    row = page[page.index('id="iface-br0"') :]
    row = row[: row.index("</tr>")]
    assert "lan" in row and "db" in row and "members" in row and "eth0" in row
    tap = page[page.index('id="iface-vnet0"') :]
    assert "its NIC" in tap[: tap.index("</tr>")] and "web" in tap[: tap.index("</tr>")]
    partial = _client(viewer).get(reverse("network:host_interfaces", args=[host.pk]), HTTP_HX_REQUEST="true")
    assert partial.content.decode().strip().startswith(f'<div id="host-interfaces-{host.pk}"')


def test_a_vm_the_viewer_may_not_see_is_not_named_on_the_interfaces_page(host, bridged, outsider):
    hidden = _vm(host, "hidden-vm")
    _port(hidden, "bridge", "br0", 3)
    role = Role.objects.create(name="Network viewer", permissions=["host.view", "network.view"])
    grant_add(actor=None, user=outsider, role=role, scope=host)
    page = _client(outsider).get(reverse("network:host_interfaces", args=[host.pk])).content.decode()
    assert "hidden-vm" not in page and "lan" in page
    diagram = _client(outsider).get(reverse("network:host_wiring", args=[host.pk])).content.decode()
    assert "hidden-vm" not in diagram and "NICs on VMs or networks you may not see are left out" in diagram


def test_the_live_event_is_a_signal_for_those_who_may_see_the_hosts_networks(host, viewer, outsider):
    assert render_wiring(viewer, {"id": host.pk}) == realtime.signal(f"wiring-{host.pk}")
    assert render_wiring(outsider, {"id": host.pk}) == ""
    assert render_wiring(viewer, {"id": host.pk + 1000}) == ""
    assert realtime.render_event(viewer, {"kind": "wiring", "id": host.pk}) == [realtime.signal(f"wiring-{host.pk}")]
