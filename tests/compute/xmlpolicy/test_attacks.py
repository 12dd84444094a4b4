"""Hand-written XML that reaches past the VM, tried against xmlpolicy.problems() as a user with no
rights at all and as an Operator (VMs, networks and storage everywhere, but not the host): each
is refused with a message naming the element, or allowed where the Operator's rights cover it
(issue 9, item 2: allow what is known, not refuse what is listed)."""

import pytest

from apps.compute import xmlpolicy

from .conftest import OWN_NVRAM, domain

pytestmark = pytest.mark.django_db

HOST = "needs the right to manage host demo."
NETS = "needs the right to manage the networks of host demo."
NBD = "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"

# id -> (domain() arguments, messages for a user with no rights, messages for an Operator)
ATTACKS = {
    "volume-disk-of-another-pool": (
        {"devices": "<disk type='volume'><source pool='team-b' volume='b.qcow2'/><target dev='vdb'/></disk>"},
        ["<disk type='volume'>: team-b/b.qcow2 is not a volume of a pool you may use on demo."],
        [],  # an Operator uses every pool (storage.use everywhere)
    ),
    "volume-disk-unknown-to-kvmweb": (
        {"devices": "<disk type='volume'><source pool='default' volume='other-vm.qcow2'/><target dev='vdb'/></disk>"},
        ["<disk type='volume'>: default/other-vm.qcow2 is not a volume of a pool you may use on demo."],
        ["<disk type='volume'>: default/other-vm.qcow2 is not a volume of a pool you may use on demo."],
    ),
    "nbd-to-an-inner-address": (
        {
            "devices": NBD
            + "<source protocol='nbd'><host name='127.0.0.1' port='6379'/></source><target dev='vdb'/></disk>"
        },
        [f"<disk type='network'> (nbd 127.0.0.1:6379) {HOST}"],
        [f"<disk type='network'> (nbd 127.0.0.1:6379) {HOST}"],
    ),
    "rbd-with-the-hosts-ceph-secret": (
        {
            "devices": "<disk type='network'><source protocol='rbd' name='rbd/other-team'>"
            "<host name='10.0.0.5' port='6789'/><auth username='admin'><secret type='ceph' usage='client.admin'/>"
            "</auth></source><target dev='vdb'/></disk>"
        },
        [f"<disk type='network'> (rbd 10.0.0.5:6789) {HOST}"],
        [f"<disk type='network'> (rbd 10.0.0.5:6789) {HOST}"],
    ),
    "iscsi-with-the-hosts-chap-secret": (
        {
            "devices": "<disk type='network' device='lun'><source protocol='iscsi' name='iqn.2024-01.lab:t/1'>"
            "<host name='10.0.0.6'/><auth username='u'><secret type='iscsi' usage='lab'/></auth></source>"
            "<target dev='sdb' bus='scsi'/></disk>"
        },
        [f"<disk type='network'> (iscsi 10.0.0.6) {HOST}"],
        [f"<disk type='network'> (iscsi 10.0.0.6) {HOST}"],
    ),
    "http-disk-to-the-metadata-address": (
        {
            "devices": "<disk type='network' device='cdrom'><source protocol='http' name='/latest/meta-data'>"
            "<host name='169.254.169.254' port='80'/></source><target dev='sdc' bus='sata'/></disk>"
        },
        [f"<disk type='network'> (http 169.254.169.254:80) {HOST}"],
        [f"<disk type='network'> (http 169.254.169.254:80) {HOST}"],
    ),
    "nvme-disk": (
        {
            "devices": "<disk type='nvme' device='disk'><source type='pci' managed='yes' namespace='1'>"
            "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source><target dev='vdb'/></disk>"
        },
        [f"<disk type='nvme'> {HOST}"],
        [f"<disk type='nvme'> {HOST}"],
    ),
    "host-file-as-disk": (
        {"devices": "<disk type='file'><source file='/etc/shadow'/><target dev='vdb'/></disk>"},
        ["<disk type='file'>: /etc/shadow is not a volume of a pool you may use on demo."],
        ["<disk type='file'>: /etc/shadow is not a volume of a pool you may use on demo."],
    ),
    "host-block-device": (
        {"devices": "<disk type='block'><source dev='/dev/sda'/><target dev='vdb'/></disk>"},
        ["<disk type='block'>: /dev/sda is not a volume of a pool you may use on demo."],
        ["<disk type='block'>: /dev/sda is not a volume of a pool you may use on demo."],
    ),
    "another-vms-nvram-as-disk": (
        {
            "devices": "<disk type='file'><source file='/var/lib/libvirt/qemu/nvram/other_VARS.fd'/><target dev='vdb'/></disk>"
        },
        [
            "<disk type='file'>: /var/lib/libvirt/qemu/nvram/other_VARS.fd is not a volume of a pool you may use on demo."
        ],
        [
            "<disk type='file'>: /var/lib/libvirt/qemu/nvram/other_VARS.fd is not a volume of a pool you may use on demo."
        ],
    ),
    "host-file-as-backing-store": (
        {
            "devices": "<disk type='file'><driver name='qemu' type='qcow2'/><source file='/srv/team-a/a.qcow2'/>"
            "<backingStore type='file'><format type='raw'/><source file='/etc/shadow'/></backingStore>"
            "<target dev='vdb'/></disk>"
        },
        [
            "<disk type='file'>: /srv/team-a/a.qcow2 is not a volume of a pool you may use on demo.",
            "<disk type='file'>: /etc/shadow is not a volume of a pool you may use on demo.",
        ],
        ["<disk type='file'>: /etc/shadow is not a volume of a pool you may use on demo."],
    ),
    "raw-volume-read-as-qcow2": (
        {
            "devices": "<disk type='file'><driver name='qemu' type='qcow2'/><source file='/srv/team-a/a.raw'/><target dev='vdb'/></disk>"
        },
        ["<disk type='file'>: /srv/team-a/a.raw is not a volume of a pool you may use on demo."],
        [
            "<disk type='file'>: /srv/team-a/a.raw is a raw volume; read as qcow2 it would open any file its "
            "contents name as a backing file."
        ],
    ),
    "interface-hostdev": (
        {
            "devices": "<interface type='hostdev' managed='yes'><source><address type='pci' domain='0x0000' "
            "bus='0x03' slot='0x00' function='0x1'/></source></interface>"
        },
        [f"<interface type='hostdev'> {HOST}"],
        [f"<interface type='hostdev'> {HOST}"],
    ),
    "macvtap-passthrough": (
        {
            "devices": "<interface type='direct'><source dev='eth0' mode='passthrough'/><model type='virtio'/></interface>"
        },
        [f"<interface type='direct'> {NETS}"],
        [],  # as on the NICs tab: network.manage, which an Operator holds
    ),
    "management-bridge": (
        {"devices": "<interface type='bridge'><source bridge='br-mgmt'/></interface>"},
        [f"<interface type='bridge'> {NETS}"],
        [],
    ),
    "vhostuser-interface": (
        {
            "devices": "<interface type='vhostuser'><source type='unix' path='/run/ovs/sock0' mode='client'/></interface>"
        },
        [f"<interface type='vhostuser'> {HOST}"],
        [f"<interface type='vhostuser'> {HOST}"],
    ),
    "host-file-as-nic-rom": (
        {"devices": "<interface type='network'><source network='default'/><rom file='/etc/shadow'/></interface>"},
        [
            "<interface type='network'>: default is not a network you may use on demo.",
            "<interface type='network'> names the host path /etc/shadow: that needs the right to manage host demo.",
        ],
        ["<interface type='network'> names the host path /etc/shadow: that needs the right to manage host demo."],
    ),
    "vlan-tag": (
        {"devices": "<interface type='network'><source network='ovs-net'/><vlan><tag id='42'/></vlan></interface>"},
        [
            "<interface type='network'>: ovs-net is not a network you may use on demo.",
            f"<interface type='network'> with <vlan> {NETS}",
        ],
        [],
    ),
    "input-passthrough": (
        {"devices": "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event1'/></input>"},
        [f"<input type='passthrough'> {HOST}"],
        [f"<input type='passthrough'> {HOST}"],
    ),
    "input-evdev": (
        {"devices": "<input type='evdev'><source dev='/dev/input/event2' grab='all'/></input>"},
        [f"<input type='evdev'> {HOST}"],
        [f"<input type='evdev'> {HOST}"],
    ),
    "serial-tcp-to-an-inner-address": (
        {
            "devices": "<serial type='tcp'><source mode='connect' host='127.0.0.1' service='6379'/>"
            "<protocol type='raw'/><target port='0'/></serial>"
        },
        [f"<serial type='tcp'> (127.0.0.1:6379) {HOST}"],
        [f"<serial type='tcp'> (127.0.0.1:6379) {HOST}"],
    ),
    "serial-udp": (
        {
            "devices": "<serial type='udp'><source mode='connect' host='10.0.0.1' service='514'/><target port='1'/></serial>"
        },
        [f"<serial type='udp'> (10.0.0.1:514) {HOST}"],
        [f"<serial type='udp'> (10.0.0.1:514) {HOST}"],
    ),
    "channel-on-another-vms-agent-socket": (
        {
            "devices": "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/"
            "domain-1-other/org.qemu.guest_agent.0'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        },
        ["<channel type='unix'> (/var/lib/libvirt/qemu/channel/target/domain-1-other/org.qemu.guest_agent.0) " + HOST],
        ["<channel type='unix'> (/var/lib/libvirt/qemu/channel/target/domain-1-other/org.qemu.guest_agent.0) " + HOST],
    ),
    "console-to-a-host-file": (
        {"devices": "<console type='file'><source path='/etc/cron.d/x'/><target type='serial'/></console>"},
        [f"<console type='file'> (/etc/cron.d/x) {HOST}"],
        [f"<console type='file'> (/etc/cron.d/x) {HOST}"],
    ),
    "serial-on-a-host-device": (
        {"devices": "<serial type='dev'><source path='/dev/ttyS0'/><target port='0'/></serial>"},
        [f"<serial type='dev'> (/dev/ttyS0) {HOST}"],
        [f"<serial type='dev'> (/dev/ttyS0) {HOST}"],
    ),
    "pty-logging-to-a-host-file": (
        {"devices": "<serial type='pty'><log file='/etc/cron.d/x' append='on'/><target port='0'/></serial>"},
        ["<serial type='pty'> names the host path /etc/cron.d/x: that needs the right to manage host demo."],
        ["<serial type='pty'> names the host path /etc/cron.d/x: that needs the right to manage host demo."],
    ),
    "usb-redirection-over-tcp": (
        {
            "devices": "<redirdev bus='usb' type='tcp'><source mode='connect' host='127.0.0.1' service='6379'/></redirdev>"
        },
        [f"<redirdev type='tcp'> (127.0.0.1:6379) {HOST}"],
        [f"<redirdev type='tcp'> (127.0.0.1:6379) {HOST}"],
    ),
    "nvdimm-on-a-host-file": (
        {
            "devices": "<memory model='nvdimm'><source><path>/var/lib/libvirt/qemu/nvram/other_VARS.fd</path>"
            "</source><target><size unit='KiB'>524288</size></target></memory>"
        },
        [f"<memory model='nvdimm'> (/var/lib/libvirt/qemu/nvram/other_VARS.fd) {HOST}"],
        [f"<memory model='nvdimm'> (/var/lib/libvirt/qemu/nvram/other_VARS.fd) {HOST}"],
    ),
    "virtio-pmem-on-a-host-file": (
        {
            "devices": "<memory model='virtio-pmem' access='shared'><source><path>/etc/shadow</path></source>"
            "<target><size unit='KiB'>524288</size></target></memory>"
        },
        [f"<memory model='virtio-pmem'> (/etc/shadow) {HOST}"],
        [f"<memory model='virtio-pmem'> (/etc/shadow) {HOST}"],
    ),
    "host-pci-device": (
        {
            "devices": "<hostdev mode='subsystem' type='pci' managed='yes'><source><address bus='0x03' slot='0x00'/></source></hostdev>"
        },
        [f"<hostdev type='pci'> {HOST}"],
        [f"<hostdev type='pci'> {HOST}"],
    ),
    "shared-host-directory": (
        {"devices": "<filesystem type='mount'><source dir='/root'/><target dir='root'/></filesystem>"},
        [f"<filesystem type='mount'> {HOST}"],
        [f"<filesystem type='mount'> {HOST}"],
    ),
    "host-smartcard": (
        {"devices": "<smartcard mode='host'/>"},
        [f"<smartcard> {HOST}"],
        [f"<smartcard> {HOST}"],
    ),
    "shared-memory-with-other-guests": (
        {"devices": "<shmem name='other-team'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>"},
        [f"<shmem> {HOST}"],
        [f"<shmem> {HOST}"],
    ),
    "rng-on-the-hosts-hardware": (
        {"devices": "<rng model='virtio'><backend model='random'>/dev/hwrng</backend></rng>"},
        [f"<rng> with <backend model='random'> (/dev/hwrng) {HOST}"],
        [f"<rng> with <backend model='random'> (/dev/hwrng) {HOST}"],
    ),
    "tpm-of-the-host": (
        {"devices": "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>"},
        [f"<tpm> with <backend type='passthrough'> {HOST}"],
        [f"<tpm> with <backend type='passthrough'> {HOST}"],
    ),
    "vnc-on-a-host-socket": (
        {"devices": "<graphics type='vnc' socket='/run/libvirt/libvirt-sock'/>"},
        [
            "<graphics type='vnc'> names the host path /run/libvirt/libvirt-sock: that needs the right to manage host demo."
        ],
        [
            "<graphics type='vnc'> names the host path /run/libvirt/libvirt-sock: that needs the right to manage host demo."
        ],
    ),
    "device-kvmweb-does-not-know": (
        {"devices": "<crystalball type='file' path='/etc/shadow'/>"},
        [f"<crystalball type='file'>, a device kvmweb does not know, {HOST}"],
        [f"<crystalball type='file'>, a device kvmweb does not know, {HOST}"],
    ),
    "acpi-table-from-a-host-file": (
        {"os": "<acpi><table type='slic'>/etc/shadow</table></acpi>"},
        [f"<os><acpi><table type='slic'> (/etc/shadow) {HOST}"],
        [f"<os><acpi><table type='slic'> (/etc/shadow) {HOST}"],
    ),
    "kernel-from-a-host-file": (
        {"os": "<kernel>/etc/shadow</kernel>"},
        ["<os><kernel>: /etc/shadow is not a volume of a pool you may use on demo."],
        ["<os><kernel>: /etc/shadow is not a volume of a pool you may use on demo."],
    ),
    "loader-from-a-host-file": (
        {"os": "<loader readonly='yes' type='pflash'>/etc/shadow</loader>"},
        [f"<os><loader> (/etc/shadow), firmware outside the host's firmware packages, {HOST}"],
        [f"<os><loader> (/etc/shadow), firmware outside the host's firmware packages, {HOST}"],
    ),
    "nvram-template-from-a-host-file": (
        {"os": f"<nvram template='/etc/shadow'>{OWN_NVRAM}</nvram>"},
        [f"<os><nvram template='/etc/shadow'>, a template outside the host's firmware packages, {HOST}"],
        [f"<os><nvram template='/etc/shadow'>, a template outside the host's firmware packages, {HOST}"],
    ),
    "resource-tuning-against-the-other-guests": (
        {"top": "<cputune><shares>262144</shares></cputune>"},
        [f"<cputune> {HOST}"],
        [f"<cputune> {HOST}"],
    ),
    "security-label": (
        {"top": "<seclabel type='static' model='dac' relabel='no'><label>0:0</label></seclabel>"},
        [f"<seclabel type='static'> {HOST}"],
        [f"<seclabel type='static'> {HOST}"],
    ),
    "fw_cfg-entry-from-a-host-file": (
        {"top": "<sysinfo type='fwcfg'><entry name='opt/x' file='/etc/shadow'/></sysinfo>"},
        ["<sysinfo type='fwcfg'> names the host path /etc/shadow: that needs the right to manage host demo."],
        ["<sysinfo type='fwcfg'> names the host path /etc/shadow: that needs the right to manage host demo."],
    ),
}


@pytest.mark.parametrize("case", ATTACKS, ids=list(ATTACKS))
def test_a_user_with_no_rights_is_refused_with_the_element_named(case, demo_host, outsider, pools):
    parts, for_nobody, _ = ATTACKS[case]
    assert xmlpolicy.problems(domain(**parts), user=outsider, host=demo_host) == for_nobody


@pytest.mark.parametrize("case", ATTACKS, ids=list(ATTACKS))
def test_an_operator_gets_only_what_the_role_covers(case, demo_host, operator, pools):
    parts, _, for_operator = ATTACKS[case]
    assert xmlpolicy.problems(domain(**parts), user=operator, host=demo_host) == for_operator


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            {"os": "<nvram>/var/lib/libvirt/qemu/nvram/other_VARS.fd</nvram>"},
            "/var/lib/libvirt/qemu/nvram/other_VARS.fd",
        ),
        ({"os": "<nvram>/etc/passwd</nvram>"}, "/etc/passwd"),
        (
            {"os": "<nvram type='file'><source file='/var/lib/libvirt/qemu/nvram/other_VARS.fd'/></nvram>"},
            "/var/lib/libvirt/qemu/nvram/other_VARS.fd",
        ),
    ],
    ids=["another-vms-nvram", "a-host-file", "as-source"],
)
def test_the_nvram_file_is_the_vms_own_for_everyone(parts, message, demo_host, outsider, operator, admin):
    expected = [
        f"<os><nvram> must be {OWN_NVRAM}: a VM's UEFI variables are kept in the file named after it, not {message}."
    ]
    for user in (outsider, operator, admin):
        assert xmlpolicy.problems(domain(**parts), user=user, host=demo_host) == expected


def test_driver_pass_through_and_another_emulator_are_refused_for_everyone(demo_host, admin):
    qemu = domain(top="<qemu:commandline><qemu:arg value='-monitor'/></qemu:commandline>")
    assert xmlpolicy.problems(qemu, user=admin, host=demo_host) == [
        "QEMU pass-through (the qemu: namespace, e.g. <qemu:commandline>) is not allowed here."
    ]
    evil = domain("<emulator>/tmp/evil</emulator>")
    assert xmlpolicy.problems(evil, user=admin, host=demo_host) == [
        "The <emulator> cannot be changed here: libvirt picks the host's."
    ]


def test_whoever_manages_the_host_may_add_the_hosts_own_things(demo_host, admin, pools):
    """Not refused for an administrator: they are what host.manage is for."""
    devices = "".join(
        ATTACKS[case][0].get("devices", "")
        for case in ("nbd-to-an-inner-address", "interface-hostdev", "serial-tcp-to-an-inner-address",
                     "input-passthrough", "usb-redirection-over-tcp", "nvdimm-on-a-host-file", "host-pci-device",
                     "host-file-as-disk", "pty-logging-to-a-host-file")
    )  # fmt: skip
    root = domain(devices, os="<acpi><table type='slic'>/srv/slic.bin</table></acpi>")
    assert xmlpolicy.problems(root, user=admin, host=demo_host) == []
