"""Clone a VM (virt-clone) against the libvirt test driver through the daemon: the service's
checks, the worker side run in this process, the XML rewriting, and what a failure leaves.

The test driver copies volumes (createXMLFrom) within a pool and defines domains, which is all a
clone needs; it looks for the source volume in the destination pool, so copies into another pool
are tested in tests/real/test_qemu_clone_delete.py, which also boots both VMs on real QEMU.
"""

import pytest
from django.core.exceptions import PermissionDenied
from lxml import etree

from apps.accounts.services import grant_add, role_create, team_create, user_create
from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services import clone as services
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, lifecycle
from apps.compute.virt.xml import Domain
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume
from tests.compute.lifecycle.lifecycle_helpers import make_source, test_pool  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD
from tests.helpers import created_domains, unique

pytestmark = pytest.mark.django_db
MiB = 1 << 20
POOL = "default-pool"


def run(op):
    done = operation_run(op.pk)
    done.refresh_from_db()
    if done.params.get("vm_id"):
        created_domains.append(str(VirtualMachine.objects.get(pk=done.params["vm_id"]).uuid))
    return done


def xml_of(conn, name):
    return etree.fromstring(conn.lookupByName(name).XMLDesc(0).encode())


def test_clone_copies_each_writable_disk_and_gets_a_new_uuid_macs_and_files(demo_host, pool, operator, test_driver):
    team = team_create(actor=None, name="blue")
    source = make_source(demo_host, pool, test_driver, disks=2)
    VirtualMachine.objects.filter(pk=source.pk).update(team=team)
    source.refresh_from_db()
    new = unique("lc")

    op = run(services.vm_clone(actor=operator, vm=source, name=new))

    assert (op.kind, op.status, op.progress) == ("vm.clone", "succeeded", 100), op.error
    assert op.params["name"] == new
    clone = VirtualMachine.objects.get(pk=op.params["vm_id"])
    assert (clone.name, clone.present, clone.team, clone.vcpus) == (new, True, team, 2)
    assert clone.uuid != source.uuid
    root, src_root = xml_of(test_driver, new), xml_of(test_driver, source.name)
    sources = {d.find("target").get("dev"): d.find("source").get("file") for d in root.findall("devices/disk")}
    assert sources == {
        "vda": f"/default-pool/{new}-vda.qcow2",
        "vdb": f"/default-pool/{new}-vdb.qcow2",
        "sda": "/isos/debian.iso",  # the CD-ROM is shared, not copied
    }
    mac = root.find("devices/interface/mac").get("address")
    assert mac != "52:54:00:aa:bb:01" and mac.startswith("52:54:00:")
    assert src_root.find("devices/interface/mac").get("address") == "52:54:00:aa:bb:01"  # source untouched
    names = {v.name for v in StorageVolume.objects.filter(pool=pool)}
    assert {f"{new}-vda.qcow2", f"{new}-vdb.qcow2", f"{source.name}-0.qcow2"} <= names
    assert "vda → " in op.message and mac in op.message
    events = AuditEvent.objects.filter(action="vm.clone", target_id=str(source.pk))
    assert sorted(events.values_list("outcome", flat=True)) == ["requested", "succeeded"]


@pytest.mark.parametrize(
    "name",
    ["with space", "a/b", "..", "a..b", "<x>", "x&y", "q'uote", "x" * 65, "", "-lead", "ünïcode", "tab\tname"],
)
def test_bad_names_are_refused_before_anything_is_queued(demo_host, pool, operator, test_driver, name):
    source = make_source(demo_host, pool, test_driver)
    with pytest.raises(services.CloneError):
        services.vm_clone(actor=operator, vm=source, name=name)
    assert not Operation.objects.filter(kind="vm.clone").exists()


def test_a_taken_name_is_refused(demo_host, pool, operator, test_driver):
    source = make_source(demo_host, pool, test_driver)
    other = make_source(demo_host, pool, test_driver)
    with pytest.raises(services.CloneError, match="already exists"):
        services.vm_clone(actor=operator, vm=source, name=other.name)


@pytest.mark.parametrize("action", ["start", "suspend"])
def test_only_a_shut_off_vm_is_cloned(demo_host, pool, operator, test_driver, action):
    source = make_source(demo_host, pool, test_driver, start=True)
    if action == "suspend":
        domains.power(test_driver, str(source.uuid), "suspend")
    source = vm_inventory_apply(
        host=demo_host, uuid=str(source.uuid), info=domains.domain_info(test_driver, str(source.uuid))
    )
    with pytest.raises(services.CloneError, match="shut it off first"):
        services.vm_clone(actor=operator, vm=source, name=unique("lc"))
    assert not Operation.objects.filter(kind="vm.clone").exists()


def test_the_worker_refuses_a_source_started_after_the_request(demo_host, pool, operator, test_driver):
    source = make_source(demo_host, pool, test_driver)
    new = unique("lc")
    op = services.vm_clone(actor=operator, vm=source, name=new)
    domains.power(test_driver, str(source.uuid), "start")
    op = run(op)
    assert op.status == "failed" and "shut off" in op.error
    assert not StorageVolume.objects.filter(name__startswith=new).exists()


def test_a_disk_in_no_known_pool_cannot_be_cloned(demo_host, operator, test_driver):
    from tests.helpers import make_vm

    vm = make_vm(demo_host)  # its disk is /var/lib/libvirt/images/…, in no pool the inventory knows
    with pytest.raises(services.CloneError, match="not in a known storage pool"):
        services.vm_clone(actor=operator, vm=vm, name=unique("lc"))


@pytest.fixture
def vm_creator(db):
    """May create VMs (and view them) but manage no pool."""
    role_create(actor=None, name="Cloner", permissions=["vm.view", "vm.create", "storage.view"])
    user, _ = user_create(actor=None, username="carl-cloner", password=PASSWORD)
    grant_add(actor=None, user=user, role="Cloner")
    return user


def test_a_pool_the_user_may_not_manage_is_refused_and_audited(demo_host, pool, vm_creator, test_driver):
    source = make_source(demo_host, pool, test_driver)
    with pytest.raises(PermissionDenied):
        services.vm_clone(actor=vm_creator, vm=source, name=unique("lc"))
    assert not Operation.objects.filter(kind="vm.clone").exists()
    denied = AuditEvent.objects.get(actor=vm_creator, outcome="denied", action="auth.denied")
    assert (denied.params["permission"], denied.target_type) == ("storage.manage", "pool")


def test_the_teams_quota_is_checked(demo_host, pool, operator, test_driver):
    team = team_create(actor=None, name="small")
    team.max_vms = 1
    team.save()
    source = make_source(demo_host, pool, test_driver)
    VirtualMachine.objects.filter(pk=source.pk).update(team=team)
    source.refresh_from_db()
    with pytest.raises(services.CloneError, match="quota"):
        services.vm_clone(actor=operator, vm=source, name=unique("lc"))


def test_a_failed_clone_leaves_nothing_behind(demo_host, pool, operator, test_driver):
    source = make_source(demo_host, pool, test_driver, disks=2)
    new = unique("lc")
    op = services.vm_clone(actor=operator, vm=source, name=new)
    # Someone takes the second copy's name in the pool between the request and the work.
    volume_virt.create(test_driver, str(pool.uuid), Volume(name=f"{new}-vdb.qcow2", capacity=MiB).to_xml())

    op = run(op)

    assert op.status == "failed"
    assert "already" in op.error or "exists" in op.error, op.error  # libvirt's words
    left = {v.name for v in volume_virt.list_volumes(test_driver, str(pool.uuid))}
    assert f"{new}-vda.qcow2" not in left  # the first copy was removed again
    assert not domains.name_taken(test_driver, new)
    assert not VirtualMachine.objects.filter(name=new).exists()
    assert not StorageVolume.objects.filter(pool=pool, name=f"{new}-vda.qcow2").exists()
    outcomes = AuditEvent.objects.filter(action="vm.clone").values_list("outcome", flat=True)
    assert sorted(outcomes) == ["failed", "requested"]


# -- the XML rewriting, on its own -------------------------------------------------------------

SOURCE_XML = """<domain type='kvm'>
  <name>web01</name><uuid>0b5c9a3e-6a4e-4a36-9d1c-2f0f1c7b1a11</uuid><title>Web 01</title>
  <memory unit='KiB'>1048576</memory>
  <sysinfo type='smbios'><system><entry name='uuid'>0b5c9a3e-6a4e-4a36-9d1c-2f0f1c7b1a11</entry>
    <entry name='product'>kvmweb</entry></system></sysinfo>
  <os><type arch='x86_64'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/web01_VARS.fd</nvram></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/p/web01.qcow2'/>
      <backingStore type='file'><format type='qcow2'/><source file='/p/base.qcow2'/></backingStore>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='lvm' volume='web01-data'/>
      <target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/debian.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><target dev='vnet7'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
    <graphics type='vnc' port='5907' autoport='no' listen='127.0.0.1'/>
  </devices>
</domain>"""


def test_clone_xml_changes_what_virt_clone_changes_and_nothing_else():
    out = etree.fromstring(
        lifecycle.clone_xml(
            SOURCE_XML,
            name="web02",
            disks={"vda": "/p/web02-vda.qcow2", "vdb": "/dev/vg/web02-vdb"},
            macs=["52:54:00:12:34:56", "52:54:00:12:34:57"],
            nvram="/var/lib/libvirt/qemu/nvram/web02_VARS.fd",
        )
    )
    assert out.findtext("name") == "web02"
    assert out.find("uuid") is None and out.find("title") is None
    assert [e.get("name") for e in out.findall("sysinfo/system/entry")] == ["product"]
    vda, vdb, cdrom = out.findall("devices/disk")
    assert (vda.get("type"), vda.find("source").attrib) == ("file", {"file": "/p/web02-vda.qcow2"})
    assert vda.find("backingStore") is None  # the copy is flattened
    assert (vdb.get("type"), vdb.find("source").attrib) == ("block", {"dev": "/dev/vg/web02-vdb"})
    assert cdrom.find("source").get("file") == "/iso/debian.iso"
    nics = out.findall("devices/interface")
    assert [n.find("mac").get("address") for n in nics] == ["52:54:00:12:34:56", "52:54:00:12:34:57"]
    assert all(n.find("target") is None for n in nics)
    graphics = out.find("devices/graphics")
    assert graphics.get("autoport") == "yes" and graphics.get("port") is None
    nvram = out.find("os/nvram")
    assert nvram.text == "/var/lib/libvirt/qemu/nvram/web02_VARS.fd"
    assert nvram.get("template") == "/usr/share/OVMF/OVMF_VARS_4M.fd"


def test_clone_xml_without_a_copied_nvram_lets_libvirt_make_a_fresh_one():
    out = etree.fromstring(lifecycle.clone_xml(SOURCE_XML, name="web03", disks={}, macs=["a", "b"], nvram=""))
    nvram = out.find("os/nvram")
    assert nvram.text is None and nvram.get("template") == "/usr/share/OVMF/OVMF_VARS_4M.fd"


def test_writable_disks_are_what_is_copied():
    disks = {d.target: d for d in lifecycle.parse_disks(SOURCE_XML)}
    assert disks["vda"].writable and disks["vdb"].writable
    assert not disks["sda"].writable
    assert (disks["vdb"].pool, disks["vdb"].volume) == ("lvm", "web01-data")


def test_new_macs_are_unique():
    taken = {"52:54:00:00:00:01"}
    macs = [lifecycle.new_mac(taken) for _ in range(50)]
    assert len(set(macs)) == 50 and "52:54:00:00:00:01" not in macs


def test_a_name_defined_on_the_host_but_not_yet_in_the_inventory_is_taken(demo_host, pool, operator, test_driver):
    source = make_source(demo_host, pool, test_driver)
    name = unique("lc")
    created_domains.append(domains.define(test_driver, Domain(name=name, memory_mib=64, domain_type="test").to_xml()))
    with pytest.raises(services.CloneError, match="already exists"):
        services.vm_clone(actor=operator, vm=source, name=name)
