"""What a VM-level user may write by hand stays allowed: the devices libvirt and virt-manager put
in an ordinary guest, volumes of pools the user may use, ISO images of the library read-only,
the host's firmware and the VM's own NVRAM; and what the current definition already holds,
unchanged, is not judged again."""

import pytest
from lxml import etree

from apps.compute import xmlpolicy

from .conftest import OWN_NVRAM, domain

pytestmark = pytest.mark.django_db

HOST = "needs the right to manage host demo."

# What libvirt 9 writes for a virt-manager style guest (the inactive XML), minus its emulator.
ORDINARY = """
<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>
<controller type='usb' index='0' model='qemu-xhci'/><controller type='sata' index='0'/>
<controller type='pci' index='0' model='pcie-root'/><controller type='virtio-serial' index='0'/>
<interface type='user'><mac address='52:54:00:f4:e1:79'/><model type='virtio'/></interface>
<serial type='pty'><target type='isa-serial' port='0'><model name='isa-serial'/></target></serial>
<console type='pty'><target type='serial' port='0'/></console>
<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
<input type='tablet' bus='usb'/><input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>
<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0' passwd='secret'><listen type='address' address='0.0.0.0'/></graphics>
<graphics type='spice' autoport='yes'><listen type='address'/></graphics>
<sound model='ich9'/><audio id='1' type='spice'/><video><model type='virtio' heads='1' primary='yes'/></video>
<redirdev bus='usb' type='spicevmc'/>
<watchdog model='i6300esb' action='reset'/><memballoon model='virtio'/>
<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
<panic model='isa'/><vsock model='virtio'><cid auto='yes'/></vsock>
"""
UEFI = (
    "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
    f"<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>{OWN_NVRAM}</nvram><boot dev='hd'/>"
)
TOP = (
    "<features><acpi/><apic/></features><cpu mode='host-model'/><clock offset='utc'/>"
    "<on_poweroff>destroy</on_poweroff><memtune><hard_limit unit='MiB'>512</hard_limit></memtune>"
    "<description>/not/a/path, just words</description>"
)


def test_an_ordinary_guest_needs_no_right_at_all(demo_host, outsider):
    assert xmlpolicy.problems(domain(ORDINARY, os=UEFI, top=TOP), user=outsider, host=demo_host) == []


def test_the_hosts_own_emulator_may_be_named(demo_host, outsider):
    demo_host.capabilities_xml = (
        "<capabilities><guest><arch name='x86_64'><emulator>/usr/bin/qemu-system-x86_64</emulator>"
        "</arch></guest></capabilities>"
    )
    ok = domain("<emulator>/usr/bin/qemu-system-x86_64</emulator>")
    assert xmlpolicy.problems(ok, user=outsider, host=demo_host) == []
    other = domain("<emulator>/usr/bin/qemu-system-aarch64</emulator>")
    assert xmlpolicy.problems(other, user=outsider, host=demo_host) == [
        "The <emulator> cannot be changed here: libvirt picks the host's."
    ]


def test_volumes_of_a_usable_pool_by_path_or_by_name(demo_host, team_user, pools):
    disks = (
        "<disk type='file'><driver name='qemu' type='qcow2'/><source file='/srv/team-a/a.qcow2'/><target dev='vda'/></disk>"
        "<disk type='volume'><driver name='qemu' type='raw'/><source pool='team-a' volume='a.raw'/><target dev='vdb'/></disk>"
        "<disk type='file' device='cdrom'><source file='/srv/isos/debian.iso'/><target dev='sda' bus='sata'/></disk>"
    )
    assert (
        xmlpolicy.problems(domain(disks, os="<kernel>/srv/team-a/a.raw</kernel>"), user=team_user, host=demo_host) == []
    )
    # Team B's pool is not theirs, and the ISO library is theirs to read, not to write.
    refused = (
        "<disk type='volume'><source pool='team-b' volume='b.qcow2'/><target dev='vdc'/></disk>"
        "<disk type='file'><source file='/srv/isos/debian.iso'/><target dev='vdd'/></disk>"
    )
    assert xmlpolicy.problems(domain(refused), user=team_user, host=demo_host) == [
        "<disk type='volume'>: team-b/b.qcow2 is not a volume of a pool you may use on demo.",
        "<disk type='file'>: /srv/isos/debian.iso is not a volume of a pool you may use on demo.",
    ]


def test_a_volume_with_a_backing_file_elsewhere_is_refused(demo_host, team_user, pools):
    pools["a.qcow2"].backing_path = "/srv/team-b/b.qcow2"
    pools["a.qcow2"].save()
    disk = "<disk type='file'><source file='/srv/team-a/a.qcow2'/><target dev='vdb'/></disk>"
    assert xmlpolicy.problems(domain(disk), user=team_user, host=demo_host) == [
        "<disk type='file'>: the backing file of /srv/team-a/a.qcow2, /srv/team-b/b.qcow2, is not a volume of a "
        "pool you may use on demo."
    ]


def test_a_libvirt_network_needs_network_use_and_an_opened_bridge_nothing(demo_host, team_user, viewer, operator):
    """Seeing a network (a Viewer) is not plugging into it: that takes network.use (an Operator)."""
    demo_host.vm_bridges = ["br-guests"]
    nics = (
        "<interface type='network'><source network='default'/></interface>"
        "<interface type='bridge'><source bridge='br-guests'/></interface>"
    )
    assert xmlpolicy.problems(domain(nics), user=operator, host=demo_host) == []
    refused = ["<interface type='network'>: default is not a network you may use on demo."]
    assert xmlpolicy.problems(domain(nics), user=viewer, host=demo_host) == refused
    assert xmlpolicy.problems(domain(nics), user=team_user, host=demo_host) == refused
    ovs = "<interface type='bridge'><source bridge='br-guests'/><virtualport type='openvswitch'/></interface>"
    assert xmlpolicy.problems(domain(ovs), user=viewer, host=demo_host) == [
        "<interface type='bridge'> needs the right to manage the networks of host demo."
    ]


# -- the current definition ---------------------------------------------------------------------

ADMINS_VM = """
<disk type='file'><driver name='qemu' type='qcow2' cache='none'/><source file='/var/lib/libvirt/images/x.qcow2'/>
  <target dev='vda' bus='virtio'/></disk>
<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdb'/><readonly/></disk>
<disk type='network'><source protocol='rbd' name='rbd/x'><host name='10.0.0.5'/></source><target dev='vdc'/></disk>
<interface type='direct'><mac address='52:54:00:00:00:01'/><source dev='eth0' mode='passthrough'/>
  <model type='e1000e'/></interface>
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x03' slot='0x00'
  function='0x0'/></source></hostdev>
<serial type='tcp'><source mode='connect' host='127.0.0.1' service='4555'/><target port='0'/></serial>
"""
ADMINS_OS = "<loader>/opt/firmware/custom.fd</loader><nvram>/srv/nvram/custom_VARS.fd</nvram>"
ADMINS_TOP = "<cputune><shares>2048</shares></cputune><qemu:commandline><qemu:arg value='-S'/></qemu:commandline>"


def _before():
    return domain(ADMINS_VM, os=ADMINS_OS, top=ADMINS_TOP)


def _edit(change):
    root = _before()
    change(root)
    return etree.fromstring(etree.tostring(root, pretty_print=True))  # re-indented, as an editor might


def test_an_edit_that_leaves_the_administrators_devices_alone_passes(demo_host, outsider):
    def change(root):
        etree.SubElement(root, "description").text = "only the description"
        root.find("devices/disk/driver").set("cache", "writeback")  # the guest's business
        root.find("devices/disk/target").set("bus", "sata")
        root.find("devices/interface/model").set("type", "virtio")  # guest side of an admin's macvtap

    assert xmlpolicy.problems(_edit(change), user=outsider, host=demo_host, before=_before()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda root: root.find("devices/hostdev/source/address").set("bus", "0x04"),
            f"<hostdev type='pci'> {HOST}",
        ),
        (
            lambda root: root.find("devices").append(etree.fromstring(etree.tostring(root.find("devices/hostdev")))),
            f"<hostdev type='pci'> {HOST}",
        ),
        (
            lambda root: root.find("devices/disk[2]").remove(root.find("devices/disk[2]/readonly")),
            "<disk type='block'>: /dev/sdb is not a volume of a pool you may use on demo.",
        ),
        (
            lambda root: root.find("devices/disk/driver").set("type", "raw"),
            "<disk type='file'>: /var/lib/libvirt/images/x.qcow2 is not a volume of a pool you may use on demo.",
        ),
        (
            lambda root: root.find("devices/serial/source").set("service", "6379"),
            f"<serial type='tcp'> (127.0.0.1:6379) {HOST}",
        ),
        (lambda root: root.find("cputune/shares").__setattr__("text", "262144"), f"<cputune> {HOST}"),
        (
            lambda root: root.find("os/nvram").__setattr__("text", "/srv/nvram/other_VARS.fd"),
            f"<os><nvram> must be {OWN_NVRAM}: a VM's UEFI variables are kept in the file named after it, not "
            "/srv/nvram/other_VARS.fd.",
        ),
        (
            lambda root: root.find("{http://libvirt.org/schemas/domain/qemu/1.0}commandline/*").set("value", "-s"),
            "QEMU pass-through (the qemu: namespace, e.g. <qemu:commandline>) is not allowed here.",
        ),
    ],
    ids=[
        "hostdev-moved",
        "hostdev-doubled",
        "read-only-made-writable",
        "format-changed",
        "serial-re-aimed",
        "tuning-changed",
        "nvram-changed",
        "qemu-args-changed",
    ],  # fmt: skip
)
def test_what_the_user_changes_of_them_is_judged(change, message, demo_host, outsider):
    assert xmlpolicy.problems(_edit(change), user=outsider, host=demo_host, before=_before()) == [message]


def test_a_removed_element_is_not_a_problem(demo_host, outsider):
    def change(root):
        for tag in ("devices/hostdev", "devices/serial"):
            el = root.find(tag)
            el.getparent().remove(el)

    assert xmlpolicy.problems(_edit(change), user=outsider, host=demo_host, before=_before()) == []


def test_the_administrators_qemu_arguments_may_go_but_not_change(demo_host, outsider):
    """Removing them (and the namespace declaration with them) leaves every other element as it was."""
    before = _before()
    gone = etree.fromstring(
        etree.tostring(before).replace(b' xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0"', b"")
        .replace(b'<qemu:commandline><qemu:arg value="-S"/></qemu:commandline>', b"")
    )  # fmt: skip
    assert b"xmlns:qemu" not in etree.tostring(gone) and b"commandline" not in etree.tostring(gone)
    assert xmlpolicy.problems(gone, user=outsider, host=demo_host, before=before) == []
