"""The wiring diagram of one host: what each VM is plugged into and what else is on that wire.

Four columns, left to right: host interfaces (NICs, bonds, VLANs) → the wires (libvirt networks,
host bridges, Open vSwitch, macvtap, SR-IOV) → the VMs' NICs → the VMs. Laid out here, drawn as
SVG by templates/network/_wiring.svg.html (no client-side library), re-read by the open page on
"wiring" events. Three queries plus the user's rights, whatever the number of networks and NICs.
"""

from dataclasses import dataclass, field

from django.urls import reverse

from apps.authz.rights import rights
from apps.core import realtime
from apps.hosts.models import Host

from .models import HostInterface, Port, VirtualNetwork

HEADS = ("Host interfaces", "Bridges and networks", "NICs", "VMs")
WIDTHS = (200, 230, 170, 210)
GAP, LEFT, TOP, ROW, NODE_H = 80, 16, 40, 50, 40
COLUMN_X = tuple(LEFT + sum(WIDTHS[:i]) + GAP * i for i in range(4))
# Interfaces drawn in the first column even when nothing uses them: the host's ways out.
UPLINK_KINDS = ("ethernet", "bond", "vlan")
BRIDGE_KINDS = ("bridge", "openvswitch")
OVS_DATAPATH = "ovs-system"  # Open vSwitch's kernel datapath: every OVS port's master, not a bridge
# Box colours (static/css/wiring.css) by state.
STATE_CLASS = {
    "running": "ok",
    "blocked": "ok",
    "up": "ok",
    "active": "ok",
    "paused": "warn",
    "pmsuspended": "warn",
    "shutdown": "warn",
    "crashed": "bad",
    "down": "bad",
    "lowerlayerdown": "bad",
}
# What the diagram reads of each port and its VM.
PORT_COLUMNS = (
    "mac",
    "kind",
    "source",
    "model",
    "target",
    "link_up",
    "vm__id",
    "vm__name",
    "vm__state",
    "vm__host_id",
)
# NICs on no host wire, by <interface type>.
OTHER_KINDS = {"user": "user-mode networking", "ethernet": "generic ethernet", "vhostuser": "vhost-user"}
# Where each wire kind sorts in its column.
WIRE_ORDER = ("network", "bridge", "macvtap", "hostdev", "other")


def _cls(state):
    return STATE_CLASS.get(state or "", "off")


@dataclass(eq=False)
class Node:
    key: str
    label: str
    detail: str
    state: str  # ok, warn, bad, off
    href: str
    column: int
    group: int = 0  # order of its kind inside the column
    sort: str = ""  # order inside its group
    x: int = 0
    y: int = 0
    lit: bool = False

    @property
    def cls(self):
        return f"wiring-node {self.state}" + (" lit" if self.lit else "")

    def __post_init__(self):
        self.w = WIDTHS[self.column]
        # What fits in the box (the whole text is in its tooltip).
        # (About 7.5 px a character of the bold 12 px label, 6 px of the 11 px detail.)
        self.short_label = _short(self.label, (self.w - 16) * 2 // 15)
        self.short_detail = _short(self.detail, (self.w - 16) // 6)


@dataclass(eq=False)
class Edge:
    a: Node
    b: Node
    down: bool = False  # the NIC's link is down
    lit: bool = False

    @property
    def cls(self):
        return "wiring-edge" + (" down" if self.down else "") + (" lit" if self.lit else "")

    @property
    def path(self):
        x1, y1 = self.a.x + self.a.w, self.a.y + NODE_H // 2
        x2, y2 = self.b.x, self.b.y + NODE_H // 2
        mid = (x1 + x2) // 2
        return f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"


@dataclass
class Diagram:
    host: Host
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    focus: str = ""
    hidden_nics: int = 0
    width: int = COLUMN_X[-1] + WIDTHS[-1] + LEFT
    height: int = TOP + NODE_H

    @property
    def heads(self):
        return [{"x": x, "text": text} for x, text in zip(COLUMN_X, HEADS, strict=True)]


def _short(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Links:
    """Each page's URL by pk, reversed once per diagram rather than once per box (a thousand
    reverse() calls were a third of the diagram's time)."""

    MARK = "9876543210"

    def __init__(self):
        self.known = {}

    def __call__(self, name, pk):
        if name not in self.known:
            self.known[name] = reverse(name, args=[int(self.MARK)]).split(self.MARK)
        head, tail = self.known[name]
        return f"{head}{pk}{tail}"


class _Builder:
    def __init__(self, host):
        self.host = host
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.pairs = set()
        self.ifaces_url = reverse("network:host_interfaces", args=[host.pk])
        self.url = _Links()

    def node(self, key, **kw):
        if key not in self.nodes:
            self.nodes[key] = Node(key=key, **kw)
        return self.nodes[key]

    def edge(self, a, b, down=False):
        if (a.key, b.key) not in self.pairs:
            self.pairs.add((a.key, b.key))
            self.edges.append(Edge(a=a, b=b, down=down))

    def iface(self, name, ifaces):
        i = ifaces.get(name)
        if i is None:
            detail, state = "host interface", ""
        else:
            members = [m.name for m in ifaces.values() if m.master == name]
            detail = {
                "bond": f"bond of {', '.join(members)}" if members else "bond",
                "vlan": f"VLAN {i.vlan_id} on {i.parent}" if i.parent else "VLAN",
            }.get(i.kind, i.kind)
            if i.speed_mbps:
                detail += f" · {i.speed_mbps} Mb/s"
            state = i.state
        return self.node(
            f"iface-{name}",
            label=name,
            detail=detail,
            state=_cls(state),
            href=f"{self.ifaces_url}#iface-{name}",
            column=0,
        )

    def wire(self, key, kind, **kw):
        return self.node(key, column=1, group=WIRE_ORDER.index(kind), **kw)


def wiring(user, host, focus=""):
    """The host's diagram as `user` may see it: networks they may view, VMs they may view (a NIC
    on anything else is left out and counted). `focus` ("vm-12", "network-3") lights that node
    and everything on the same wire."""
    b = _Builder(host)
    ifaces = {i.name: i for i in HostInterface.objects.filter(host=host)}
    networks = list(VirtualNetwork.objects.filter(host=host, present=True))
    view_networks, view_vms = rights(user, "network.view"), rights(user, "vm.view")

    def uplinks(wire, devices=(), bridge=""):
        """Edges into a wire from the interfaces it forwards through, and from its bridge's
        members that lead out of the host (not the VMs' own taps)."""
        for name in devices:
            b.edge(b.iface(name, ifaces), wire)
        for m in ifaces.values():
            if bridge and m.master == bridge and m.kind in UPLINK_KINDS:
                b.edge(b.iface(m.name, ifaces), wire)

    # The wires: networks first, then bridges the networks do not own.
    by_name, by_bridge = {}, {}
    all_bridges = {n.bridge for n in networks if n.bridge}
    for net in (n for n in networks if view_networks.allows(n)):
        wire = b.wire(
            f"network-{net.pk}",
            "network",
            label=net.name,
            detail=net.mode_label + (f" · {net.bridge}" if net.bridge else ""),
            state=_cls(net.state),
            href=b.url("network:network_detail", net.pk),
        )
        by_name[net.name] = wire
        if net.bridge:
            by_bridge[net.bridge] = wire
        uplinks(wire, net.devices, net.bridge)

    def bridge(name):
        if name in by_bridge:
            return by_bridge[name]
        i = ifaces.get(name)
        ovs = i is not None and i.kind == "openvswitch"
        wire = by_bridge[name] = b.wire(
            f"bridge-{name}",
            "bridge",
            label=name,
            detail="Open vSwitch bridge" if ovs else "Linux bridge",
            state=_cls(i.state if i is not None else ""),
            href=f"{b.ifaces_url}#iface-{name}",
        )
        uplinks(wire, bridge=name)
        return wire

    for i in ifaces.values():
        in_bond = i.master in ifaces and ifaces[i.master].kind == "bond"
        if i.kind in BRIDGE_KINDS and i.name not in all_bridges and i.name != OVS_DATAPATH:
            bridge(i.name)
        elif i.kind in UPLINK_KINDS and not in_bond:
            b.iface(i.name, ifaces)  # a way out, used or not (a bond's members show in its box)

    hidden = 0
    ports = (
        Port.objects.filter(host=host, vm__present=True)
        .select_related("vm")
        .only(*PORT_COLUMNS)
        .order_by("vm__name", "mac")
    )
    for port in ports:
        vm = port.vm
        wire = None
        if not view_vms.allows(vm):
            hidden += 1
            continue
        if port.kind == "network":
            wire = by_name.get(port.source)
        elif port.kind == "bridge" and port.source:
            wire = bridge(port.source)
        elif port.kind == "direct" and port.source:
            wire = b.wire(
                f"macvtap-{port.source}",
                "macvtap",
                label=f"macvtap on {port.source}",
                detail="direct",
                state=_cls(ifaces[port.source].state if port.source in ifaces else ""),
                href=f"{b.ifaces_url}#iface-{port.source}",
            )
            b.edge(b.iface(port.source, ifaces), wire)
        elif port.kind == "hostdev":
            wire = _hostdev(b, port, ifaces)
        else:
            wire = b.wire(
                f"other-{port.kind}",
                "other",
                label=OTHER_KINDS.get(port.kind, port.kind or "unknown"),
                detail="no host interface",
                state="off",
                href="",
            )
        if wire is None:  # a network the user may not see, or one no longer there
            hidden += 1
            continue
        _nic(b, wire, port)

    diagram = Diagram(host=host, focus=focus if focus in b.nodes else "", hidden_nics=hidden)
    _light(b, diagram.focus)
    diagram.height = _place(b)
    diagram.nodes, diagram.edges = list(b.nodes.values()), b.edges
    return diagram


def _hostdev(b, port, ifaces):
    """An SR-IOV VF handed to the VM, drawn from its PF when the host still lists the VF."""
    vf = next((i for i in ifaces.values() if port.source and i.pci_address == port.source), None)
    wire = b.wire(
        f"hostdev-{port.source or port.pk}",
        "hostdev",
        label=port.source or "PCI device",
        detail="SR-IOV VF",
        state="ok" if port.vm.state == "running" else "off",
        href=f"{b.ifaces_url}#iface-{vf.parent}" if vf is not None and vf.parent else b.ifaces_url,
    )
    if vf is not None and vf.parent:
        b.edge(b.iface(vf.parent, ifaces), wire)
    return wire


def _nic(b, wire, port):
    vm = port.vm
    bits = [port.target, port.model] + ([] if port.link_up else ["link down"])
    state = "bad" if not port.link_up else "ok" if vm.state in ("running", "blocked") else "off"
    nic = b.node(
        f"nic-{port.pk}",
        label=port.mac,
        detail=" · ".join(x for x in bits if x) or port.kind,
        state=state,
        href=b.url("compute:vm_nics", vm.pk),
        column=2,
        sort=f"{vm.name} {port.mac}",
    )
    box = b.node(
        f"vm-{vm.pk}",
        label=vm.name,
        detail=vm.get_state_display(),
        state=_cls(vm.state),
        href=b.url("compute:vm_detail", vm.pk),
        column=3,
    )
    b.edge(wire, nic, down=not port.link_up)
    b.edge(nic, box)


def _light(b, focus):
    """The focus, the wires it is on, and everything on those wires: their host interfaces,
    NICs and VMs (the answer to "what else is on that wire")."""
    start = b.nodes.get(focus)
    if start is None:
        return
    near = {}
    for e in b.edges:
        near.setdefault(e.a.key, set()).add(e.b.key)
        near.setdefault(e.b.key, set()).add(e.a.key)

    def around(keys, column):
        return {k for key in keys for k in near.get(key, ()) if b.nodes[k].column == column}

    own_nics = around({start.key}, 2) if start.column == 3 else set()
    if start.column == 1:
        wires = {start.key}
    elif start.column == 3:
        wires = around(own_nics, 1)
    else:
        wires = around({start.key}, 1)
    nics = around(wires, 2)
    lit = {start.key} | wires | own_nics | nics | around(wires, 0) | around(nics, 3)
    for key in lit:
        b.nodes[key].lit = True
    for e in b.edges:
        e.lit = e.a.lit and e.b.lit


def _place(b):
    """Columns ordered so that lines cross little: NICs grouped by wire, each VM level with its
    first NIC, each wire and interface level with the middle of what it feeds; lit wires first.
    Returns the height."""
    columns = [[], [], [], []]
    for n in b.nodes.values():
        columns[n.column].append(n)
    feeds, fed_by = {}, {}
    for e in b.edges:
        feeds.setdefault(e.a.key, []).append(e.b)
        fed_by.setdefault(e.b.key, []).append(e.a)
    # A focused wire comes first: what the page was opened for is at its top, whatever the size.
    wires = sorted(columns[1], key=lambda n: (not n.lit, n.group, n.label))
    rank = {n.key: i for i, n in enumerate(wires)}
    nics = sorted(columns[2], key=lambda n: (rank[fed_by[n.key][0].key], n.sort))
    _stack(nics, [TOP + i * ROW for i in range(len(nics))])
    first = {n.key: min(s.y for s in fed_by[n.key]) for n in columns[3]}
    vms = sorted(columns[3], key=lambda n: (first[n.key], n.label))
    _stack(vms, [first[n.key] for n in vms])
    _stack(wires, [_middle(feeds.get(n.key, ())) for n in wires])
    middles = {n.key: _middle(feeds.get(n.key, ()), None) for n in columns[0]}
    uplinks = sorted(columns[0], key=lambda n: (middles[n.key] is None, middles[n.key] or 0, n.label))
    _stack(uplinks, [middles[n.key] or TOP for n in uplinks])
    for column, x in zip(columns, COLUMN_X, strict=True):
        for n in column:
            n.x = x
    return max((n.y for n in b.nodes.values()), default=TOP) + NODE_H + 16


def _middle(nodes, default=TOP):
    """Level with the middle of what a node feeds (those already placed), but no more than a few
    rows below the first, so a wire with hundreds of NICs is not a screen away from them; or
    `default` when none is placed."""
    placed = [n.y for n in nodes if n.y]
    if not placed:
        return default
    return min((min(placed) + max(placed)) // 2, min(placed) + 4 * ROW)


def _stack(column, wanted):
    """Each node at its wanted height, but never over the one above it."""
    y = TOP - ROW
    for n, want in zip(column, wanted, strict=True):
        y = max(want, y + ROW)
        n.y = y


def may_see_wiring(user, host):
    """The diagram's audience: network.view on the host, or on one of its networks."""
    view = rights(user, "network.view")
    if view.allows(host):
        return True
    ids = view.ids("network")
    return bool(ids) and VirtualNetwork.objects.filter(host=host, pk__in=ids, present=True).exists()


@realtime.register_renderer("wiring")
def render_wiring(user, event):
    """Only a signal: an open diagram (or interfaces table) re-reads itself with its own focus,
    so a change costs each subscriber a rights question, not a diagram."""
    host = Host.objects.filter(pk=event["id"]).first()
    if host is None or not rights(user, "host.view").allows(host) or not may_see_wiring(user, host):
        return ""
    return realtime.signal(f"wiring-{host.pk}")
