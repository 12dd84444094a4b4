"""disk_for_volume: a volume of each pool type becomes the <disk> libvirt wants for it. Network
pools (rbd, gluster) give type='network' with the pool's servers and auth, iscsi-direct a
type='volume' disk, pools with host paths a file or block disk. Checked against libvirt's schema
(domain.rng, which virt-xml-validate uses), defined on the test driver with schema validation and
attached to a QEMU domain, then read back as the Disks tab reads them.
"""

from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import disks, domains, lifecycle
from apps.compute.virt.xml import Disk, Domain, PoolSource, disk_for_volume
from apps.core.errors import VirtError
from apps.storage.virt.pool_xml import Pool
from tests.helpers import created_domains, unique

POOL_GOLDEN = Path(__file__).parents[2] / "storage" / "golden" / "pools"
CEPH_SECRET = "2ec115d7-3a88-3ceb-bc12-0ac909a6fd87"
SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")


def pool_source(name):
    """What the runner hands over: the facts of a pool definition, read by storage's typed Pool."""
    return PoolSource.of(Pool.parse((POOL_GOLDEN / f"{name}.xml").read_text()))


def test_pool_facts_come_from_storages_typed_pool():
    assert pool_source("rbd") == PoolSource(
        hosts=(("mon1.example.com", 6789), ("mon2.example.com", None), ("2001:db8::3", 6789)),
        name="libvirt-pool",
        auth_type="ceph",
        auth_username="libvirt",
        secret_uuid=CEPH_SECRET,
    )
    assert pool_source("gluster") == PoolSource(hosts=(("gluster1.example.com", None),), name="gv0", dir="/vms")


def test_an_rbd_volume_is_a_network_disk_with_the_monitors_and_the_cephx_secret():
    disk = disk_for_volume(
        pool_type="rbd", pool_name="ceph-vms", volume_name="web.img", path="libvirt-pool/web.img", format="raw",
        pool_source=pool_source("rbd"), target="vdb",
    )  # fmt: skip
    assert (disk.type, disk.protocol, disk.source_name, disk.format) == (
        "network",
        "rbd",
        "libvirt-pool/web.img",
        "raw",
    )
    assert [(h.name, h.port) for h in disk.hosts] == [
        ("mon1.example.com", 6789),
        ("mon2.example.com", None),
        ("2001:db8::3", 6789),
    ]
    assert (disk.auth.username, disk.auth.secret_type, disk.auth.secret_uuid) == ("libvirt", "ceph", CEPH_SECRET)
    assert disk.path == "" and disk.source == "libvirt-pool/web.img"


def test_a_gluster_volume_is_named_inside_the_gluster_volume_and_the_pools_directory():
    disk = disk_for_volume(
        pool_type="gluster", pool_name="gluster-vms", volume_name="web.qcow2", format="qcow2",
        path="gluster://gluster1.example.com/gv0/vms/web.qcow2", pool_source=pool_source("gluster"),
    )  # fmt: skip
    assert (disk.type, disk.protocol, disk.source_name, disk.auth) == ("network", "gluster", "gv0/vms/web.qcow2", None)
    assert [h.name for h in disk.hosts] == ["gluster1.example.com"]


def test_an_iscsi_direct_volume_names_its_pool_and_lun():
    disk = disk_for_volume(
        pool_type="iscsi-direct", pool_name="san-direct", volume_name="unit:0:0:1", path="", format=""
    )
    assert (disk.type, disk.pool, disk.volume, disk.format, disk.writable) == (
        "volume", "san-direct", "unit:0:0:1", "raw", True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "pool_type, path, kind",
    [
        ("dir", "/var/lib/libvirt/images/a.qcow2", "file"),
        ("netfs", "/mnt/nfs-images/a.qcow2", "file"),
        ("logical", "/dev/vg_vms/a", "block"),
        ("iscsi", "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2024-01.com.example:t-lun-1", "block"),
        ("zfs", "/dev/zvol/tank/a", "block"),
    ],
)
def test_a_volume_with_a_host_path_is_a_file_or_block_disk(pool_type, path, kind):
    disk = disk_for_volume(pool_type=pool_type, pool_name="p", volume_name="a", path=path, format="qcow2")
    assert (disk.type, disk.path, disk.format) == (kind, path, "qcow2")


def test_what_cannot_be_attached_is_refused_in_words():
    with pytest.raises(VirtError, match="names no server"):
        disk_for_volume(pool_type="rbd", pool_name="ceph", volume_name="x", path="p/x", format="raw")
    with pytest.raises(VirtError, match="has no path"):
        disk_for_volume(pool_type="dir", pool_name="d", volume_name="x", path="", format="raw")


def network_disks():
    return [
        disk_for_volume(
            pool_type="rbd", pool_name="ceph-vms", volume_name="web.img", path="libvirt-pool/web.img", format="raw",
            pool_source=pool_source("rbd"), target="vdb",
        ),
        disk_for_volume(
            pool_type="gluster", pool_name="gluster-vms", volume_name="web.qcow2", format="qcow2", path="",
            pool_source=pool_source("gluster"), target="vdc",
        ),
        disk_for_volume(
            pool_type="iscsi-direct", pool_name="san-direct", volume_name="unit:0:0:1", path="", format="raw",
            target="vdd",
        ),
    ]  # fmt: skip


def test_libvirts_schema_accepts_the_domain_with_them():
    """The schema virt-xml-validate checks against (domain.rng), read in-process by lxml."""
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    doc = Domain(name="volumes", memory_mib=64, domain_type="kvm", disks=network_disks())
    assert schema.validate(doc.el), schema.error_log.last_error
    # and the same check refuses what libvirt would (a secret type libvirt does not know)
    doc.disk("vdb").auth.secret_type = "cephx"
    assert not schema.validate(doc.el)


@pytest.mark.django_db
def test_defined_on_the_test_driver_and_listed_as_the_disks_tab_lists_them(test_driver):
    """The test driver cannot attach devices; a definition holding the disks, with libvirt's schema
    validation on, goes through the same parser."""
    doc = Domain(name=unique("vd"), memory_mib=64, domain_type="test", disks=network_disks())
    uuid = domains.define(test_driver, doc.to_xml(), validate=True)
    created_domains.append(uuid)
    assert_listed(test_driver, uuid)


def assert_listed(conn, uuid):
    listed = {d.target: d for d in disks.list_disks(conn, uuid, inactive=True)}
    assert {t: (d.type, d.source, d.format) for t, d in listed.items() if t != "vda"} == {
        "vdb": ("network", "libvirt-pool/web.img", "raw"),
        "vdc": ("network", "gv0/vms/web.qcow2", "qcow2"),
        "vdd": ("volume", "san-direct/unit:0:0:1", "raw"),
    }
    rbd = Domain.parse(lifecycle.inactive_xml(conn, uuid)).disk("vdb")
    assert (rbd.protocol, [h.name for h in rbd.hosts]) == (
        "rbd",
        ["mon1.example.com", "mon2.example.com", "2001:db8::3"],
    )
    assert (rbd.auth.username, rbd.auth.secret_type, rbd.auth.secret_uuid) == ("libvirt", "ceph", CEPH_SECRET)


def test_attached_to_a_qemu_domain_and_detached_again(qemu_conn):
    """attach-disk --config on the real QEMU driver (the domain is never started: the Ceph and
    Gluster servers do not exist here), then detach-disk by target."""
    base = Disk(source="/var/lib/libvirt/images/kvmweb-never-created.qcow2")
    uuid = domains.define(
        qemu_conn, Domain(name=unique("kvmweb-vd"), memory_mib=64, domain_type="qemu", disks=[base]).to_xml()
    )
    rbd, gluster, lun = network_disks()
    try:
        disks.attach(qemu_conn, uuid, rbd, live=False, config=True)
        disks.attach(qemu_conn, uuid, gluster, live=False, config=True)
        # A volume disk is resolved through its pool even for the saved definition: libvirt
        # looks the pool up (none named san-direct exists here, nor an iSCSI target to make one).
        with pytest.raises(VirtError, match="no storage pool with matching name 'san-direct'"):
            disks.attach(qemu_conn, uuid, lun, live=False, config=True)
        listed = {d.target: (d.type, d.source) for d in disks.list_disks(qemu_conn, uuid, inactive=True)}
        assert listed == {
            "vda": ("file", "/var/lib/libvirt/images/kvmweb-never-created.qcow2"),
            "vdb": ("network", "libvirt-pool/web.img"),
            "vdc": ("network", "gv0/vms/web.qcow2"),
        }
        back = Domain.parse(lifecycle.inactive_xml(qemu_conn, uuid)).disk("vdb")
        assert (back.auth.secret_type, back.auth.secret_uuid, len(back.hosts)) == ("ceph", CEPH_SECRET, 3)
        disks.detach(qemu_conn, uuid, "vdb", live=False, config=True)
        assert [d.target for d in disks.list_disks(qemu_conn, uuid, inactive=True)] == ["vda", "vdc"]
    finally:
        domains.undefine(qemu_conn, uuid)
