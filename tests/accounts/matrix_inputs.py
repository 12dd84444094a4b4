"""The input matrix's rows: (route, payload, role) -> the answer, for the checks that depend on what
is posted (issue 9, "teams stay apart"). The route matrix (test_route_matrix.py) posts nothing, so
it never reaches them; test_input_matrix.py runs these rows.

Each role is the least right that reaches the form (USERS); the objects are made by the test's
`world` fixture (a VM and pools on the demo host, two libvirt networks in the inventory).
"""

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from apps.compute.virt import xmledit
from apps.compute.virt.xml import Domain
from apps.hosts.virt import connection
from apps.storage.forms.pools import POOL_FORMS
from apps.storage.pool_policy import DEVICE_BACKED
from tests.helpers import TEST_URI, unique

# Custom roles, and each user's grants as (role, what it is scoped to: a key of the world).
ROLES = {
    "VM editor": ["vm.view", "vm.edit"],
    "VM creator": ["host.view", "vm.view", "vm.create", "vm.edit"],
    "Pool viewer": ["storage.view"],
    "Pool user": ["storage.view", "storage.use"],
    "Network user": ["network.view", "network.use"],
}
USERS = {
    # Edits one VM; sees team B's pool and the ISO library; no right on any network.
    "vm_editor": [("VM editor", "vm"), ("Pool viewer", "team-b"), ("Pool viewer", "isos")],
    # Edits one VM; uses team B's pool and the "guests" network.
    "team_user": [("VM editor", "vm"), ("Pool user", "team-b"), ("Network user", "guests")],
    # Creates and edits VMs on the host; nothing of its networks, storage or the host itself.
    "vm_creator": [("VM creator", "host")],
    # VMs, networks and storage of this host (storage.manage, network.manage), not the host.
    "host_operator": [("Operator", "host")],
    # Everything on this host (host.manage there), nothing elsewhere.
    "host_admin": [("Administrator", "host")],
}

# What a 403 says: authorize()'s sentence, in the permission catalogue's words.
NEEDS_STORAGE_USE = "You may not attach volumes of pools to virtual machines here."
NEEDS_NETWORK_MANAGE = "You may not create, change and remove networks here."
NEEDS_NETWORK_USE = "You may not connect virtual machines' NICs to networks here."
NEEDS_HOST_MANAGE = "You may not add, edit and remove hosts here."
NEEDS_STORAGE_VIEW = "You may not see storage pools and volumes here."
# What the XML policy says on the form.
HOST = "needs the right to manage host demo."
NETS = "needs the right to manage the networks of host demo."


@dataclass(frozen=True)
class Row:
    name: str
    route: str
    kwargs: Callable  # world -> the URL's kwargs
    data: Callable  # world -> the POST
    role: str  # a key of USERS
    status: int
    # The permission the "denied" audit row names ("" for what no right allows), or None for a
    # request that is allowed (then no "denied" row may appear).
    denied: str | None
    says: str  # in the answer: for a refusal, what was needed
    queues: str = ""  # the Operation kind an allowed request queues ("" when it changes a row instead)
    # Why this refusal writes no "denied" row yet (the test then expects it to fail for that alone).
    gap: str = ""


def vm(o):
    return {"pk": o["vm"].pk}


def _text(root):
    return etree.tostring(root, encoding="unicode")


def with_device(o, device):
    """The VM's saved definition with `device` added, as a user would paste it in the XML tab."""
    vm = o["vm"]
    root = etree.fromstring(xmledit.read(connection.get(vm.host.uri), str(vm.uuid)))
    root.find("devices").append(etree.fromstring(device))
    return _text(root)


def new_domain(device):
    """A new test-driver domain holding `device`, as define-from-XML takes it."""
    domain = Domain(name=unique("defined"), memory_mib=64, vcpus=1, domain_type="test")
    domain.el.find("devices").append(etree.fromstring(device))
    return domain.to_xml()


DEVICES = {
    "hostdev": (
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>"
    ),
    "macvtap": "<interface type='direct'><source dev='eth0' mode='passthrough'/><model type='virtio'/></interface>",
    "tcp-serial": (
        "<serial type='tcp'><source mode='connect' host='127.0.0.1' service='6379'/><protocol type='raw'/>"
        "<target port='3'/></serial>"
    ),
    "pty-serial": "<serial type='pty'><target port='2'/></serial>",  # a VM-level device: needs nothing more
}
# The host devices of the brief: the right each needs, and what the form says without it.
REFUSED = {
    "hostdev": ("host.manage", f"<hostdev type='pci'> {HOST}"),
    "macvtap": ("network.manage", f"<interface type='direct'> {NETS}"),
    "tcp-serial": ("host.manage", f"<serial type='tcp'> (127.0.0.1:6379) {HOST}"),
}

# -- rows ------------------------------------------------------------------------------------


def _disk(name, volume, role, status, denied, says, queues=""):
    return Row(
        f"disk-attach-{name}-{role}",
        "compute:vm_disk_attach",
        vm,
        lambda o: {"volume": o[volume].pk, "bus": "virtio", "scope": "config"},
        role,
        status,
        denied,
        says,
        queues,
    )


DISKS = [
    _disk("other-teams-volume", "b.qcow2", "vm_editor", 403, "storage.use", NEEDS_STORAGE_USE),
    _disk("used-pool", "b.qcow2", "team_user", 200, None, "Queued (vm.disk_attach)", "vm.disk_attach"),
    _disk("used-pool", "b.qcow2", "host_operator", 200, None, "Queued (vm.disk_attach)", "vm.disk_attach"),
]


def _nic(name, data, role, status, denied, says, queues=""):
    return Row(
        f"nic-{name}-{role}",
        "compute:vm_nic_add",
        vm,
        lambda o: {"model": "virtio", "scope": "config", **data},
        role,
        status,
        denied,
        says,
        queues,
    )


BRIDGE = {"kind": "bridge", "source": "br-mgmt"}
NICS = [
    _nic("host-bridge", BRIDGE, "vm_editor", 403, "network.manage", NEEDS_NETWORK_MANAGE),
    _nic("macvtap", {"kind": "direct", "source": "eth0", "mode": "passthrough"}, "vm_editor", 403, "network.manage",
         NEEDS_NETWORK_MANAGE),
    _nic("openvswitch", {"kind": "ovs", "source": "ovsbr0"}, "vm_editor", 403, "network.manage", NEEDS_NETWORK_MANAGE),
    _nic("host-bridge", BRIDGE, "host_operator", 200, None, "Queued (vm.nic_add)", "vm.nic_add"),
    # The bridge the administrator opened to VM users (the world sets Host.vm_bridges).
    _nic("opened-bridge", {"kind": "bridge", "source": "br-guests"}, "vm_editor", 200, None, "Queued (vm.nic_add)",
         "vm.nic_add"),
    _nic("network-without-right", {"kind": "network", "network": "guests"}, "vm_editor", 403, "network.use",
         NEEDS_NETWORK_USE),
    _nic("network-used", {"kind": "network", "network": "guests"}, "team_user", 200, None, "Queued (vm.nic_add)",
         "vm.nic_add"),
    _nic("another-network", {"kind": "network", "network": "team-b-net"}, "team_user", 403, "network.use",
         NEEDS_NETWORK_USE),
]  # fmt: skip


def _host_edit(name, uri, role, status, denied, says):
    return Row(
        f"host-edit-{name}-{role}",
        "hosts:host_edit",
        lambda o: {"pk": o["host"].pk},
        lambda o: {"name": "demo-renamed" if name == "rename" else "demo", "kind": "uri", "uri": uri,
                   "vm_bridges": "br-guests"},
        role,
        status,
        denied,
        says,
    )  # fmt: skip


HOSTS = [
    _host_edit("rename", TEST_URI, "host_admin", 302, None, ""),
    # Another hypervisor the worker reaches: as much as adding a host, so host.manage everywhere.
    _host_edit("re-point", "test:///default", "host_admin", 403, "host.manage", NEEDS_HOST_MANAGE),
    _host_edit("rename", TEST_URI, "host_operator", 403, "host.manage", NEEDS_HOST_MANAGE),
]

IQN = "iqn.2024-01.com.example:storage.lun1"
# A valid form for each pool type the rows define (every device-backed one, and a directory).
POOL_FIELDS = {
    "fs": {"device": "/dev/sdb1", "fs_format": "auto", "target_path": "/srv/fs-pool"},
    "disk": {"device": "/dev/sdb", "disk_format": "gpt", "target_path": "/dev"},
    "logical": {"vg_name": "vg_vms"},
    "scsi": {"adapter_type": "scsi_host", "adapter_name": "scsi_host2", "target_path": "/dev/disk/by-path"},
    "mpath": {},
    "iscsi": {"portal": "san.example.com", "target_iqn": IQN, "target_path": "/dev/disk/by-path"},
    "iscsi-direct": {"portal": "san.example.com", "target_iqn": IQN, "initiator_iqn": "iqn.2024-01.com.example:hv1"},
    "zfs": {"zpool": "tank"},
    "dir": {"target_path": "/srv/team-pool", "build": "on"},
}
assert DEVICE_BACKED <= set(POOL_FIELDS), f"no row for {DEVICE_BACKED - set(POOL_FIELDS)}"


def pool_form(o, pool_type):
    return {"step": "define", "host": o["host"].pk, "name": f"{pool_type}-pool", **POOL_FIELDS[pool_type]}


def pool_xml(o, pool_type):
    """The XML the typed form builds for that type, pasted into "define from XML" instead."""
    form = POOL_FORMS[pool_type][1](pool_form(o, pool_type), user=o["users"]["host_admin"])
    assert form.is_valid(), form.errors
    return {"host": o["host"].pk, "xml": form.to_xml()}


def _pool(route, pool_type, role, status, denied, says, queues=""):
    data = pool_form if route == "storage:pool_new_type" else pool_xml
    return Row(
        f"{route.split(':')[1].replace('_', '-')}-{pool_type}-{role}",
        route,
        (lambda o: {"pool_type": pool_type}) if route == "storage:pool_new_type" else (lambda o: {}),
        lambda o: data(o, pool_type),
        role,
        status,
        denied,
        says,
        queues,
    )


POOLS = [
    *(
        _pool(route, t, "host_operator", 403, "host.manage", f"A {t} pool uses the host's own devices")
        for route in ("storage:pool_new_type", "storage:pool_new_xml")
        for t in sorted(DEVICE_BACKED)
    ),
    # A directory pool is storage.manage's; a device-backed one is fine for who manages the host.
    _pool("storage:pool_new_type", "dir", "host_operator", 200, None, "", "pool.create"),
    _pool("storage:pool_new_type", "fs", "host_admin", 200, None, "", "pool.create"),
    _pool("storage:pool_new_xml", "logical", "host_admin", 200, None, "", "pool.create"),
]


def _xml(route, device, role, *, refused=False):
    if route == "compute:vm_xml_save":
        kwargs, data, queues = vm, (lambda o: {"xml": with_device(o, DEVICES[device])}), "vm.xml_edit"
    else:
        kwargs, data, queues = (
            (lambda o: {}),
            (lambda o: {"host": o["host"].pk, "xml": new_domain(DEVICES[device])}),
            "vm.define",
        )
    denied, says = REFUSED[device] if refused else (None, "")
    # The XML tab answers with its form (200) either way; define-from-XML with the form, or a
    # client redirect (200 with HX-Redirect) once queued.
    name = f"{route.split(':')[1].replace('_', '-')}-{device}-{role}"
    return Row(name, route, kwargs, data, role, 200, denied, says, "" if refused else queues)


XML = [
    *(_xml("compute:vm_xml_save", device, "vm_editor", refused=True) for device in REFUSED),
    _xml("compute:vm_xml_save", "pty-serial", "vm_editor"),
    _xml("compute:vm_xml_save", "hostdev", "host_admin"),
    *(_xml("compute:vm_define_xml", device, "vm_creator", refused=True) for device in REFUSED),
    # An Operator manages the host's networks (macvtap is theirs) but not its devices.
    _xml("compute:vm_define_xml", "hostdev", "host_operator", refused=True),
    _xml("compute:vm_define_xml", "macvtap", "host_operator"),
    _xml("compute:vm_define_xml", "hostdev", "host_admin"),
]

NOT_IN_LIBRARY = "stray.iso is not in this host's ISO library."
def _cdrom(route, iso, role, status, denied, says, queues="", gap=""):
    kwargs = {"compute:vm_cdrom_media": lambda o: {"pk": o["vm"].pk, "target": "sda", "action": "insert"},
              "compute:vm_cdrom_add": vm}[route]  # fmt: skip
    return Row(
        f"{route.split(':')[1].replace('_', '-')}-{iso}-{role}",
        route,
        kwargs,
        lambda o: {"iso": o[iso].pk, "bus": "sata", "scope": "config"},
        role,
        status,
        denied,
        says,
        queues,
        gap,
    )


CDROM = [
    # team_user may use the pool the ISO is in, and still: an ISO comes from the host's ISO library.
    _cdrom("compute:vm_cdrom_media", "stray.iso", "team_user", 200, "", NOT_IN_LIBRARY),
    _cdrom("compute:vm_cdrom_media", "stray.iso", "vm_editor", 200, "", NOT_IN_LIBRARY),
    _cdrom("compute:vm_cdrom_add", "stray.iso", "team_user", 200, "", NOT_IN_LIBRARY),
    # A pool the user cannot even see.
    _cdrom("compute:vm_cdrom_media", "hidden.iso", "vm_editor", 403, "storage.view", NEEDS_STORAGE_VIEW),
    _cdrom("compute:vm_cdrom_media", "debian.iso", "vm_editor", 200, None, "Queued (vm.cdrom_insert)",
           "vm.cdrom_insert"),
]  # fmt: skip

ROWS = [*DISKS, *NICS, *HOSTS, *POOLS, *XML, *CDROM]
assert len({r.name for r in ROWS}) == len(ROWS), "two rows share a name"
