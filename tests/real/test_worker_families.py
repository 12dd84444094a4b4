"""The runner families the other real tests do not reach, through the real Celery worker on the
real libvirtd: storage pools, volumes, and define-from-XML (with its XML policy run again on the
worker). And a list of which test runs each runner family that way, which fails when a new
family arrives without one."""

import subprocess
from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.services.create import vm_define_xml
from apps.compute.virt.xml import Disk, Domain
from apps.hosts.models import Host
from apps.hosts.services import host_create
from apps.operations import runners
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services import pools as pool_services
from apps.storage.services import volumes as volume_services
from apps.storage.virt import pools as pool_virt
from apps.storage.virt.pool_xml import Pool, Target
from tests.helpers import QEMU_URI, finished, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]
MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local(stack, qemu_conn):
    host = host_create(actor=None, name=unique("local"), uri=QEMU_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", timeout=30, message="the monitor to connect")
    return Host.objects.get(pk=host.pk)


@pytest.fixture
def pool_path():
    """A directory for a test pool under /var/lib/libvirt (a prefix pools may use), removed after."""
    path = f"/var/lib/libvirt/{unique('kvmweb-test-pool')}"
    yield path
    subprocess.run(["rm", "-rf", path], check=False)


@pytest.fixture
def dir_pool(qemu_conn, local, pool_path):
    """A started dir pool, as the monitor lists it."""
    name = Path(pool_path).name
    uuid = pool_virt.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=pool_path)).to_xml())
    pool_virt.act(qemu_conn, uuid, "build")
    pool_virt.act(qemu_conn, uuid, "start")
    yield wait_for(
        lambda: StoragePool.objects.filter(host=local, uuid=uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the pool",
    )
    pool_virt.undefine_quietly(qemu_conn, uuid)


def _run(op, status="succeeded"):
    op = finished(op)
    assert op.status == status, op.error or op.message
    return op


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


def _qemu_img(path):
    return subprocess.run(["qemu-img", "info", "-U", path], capture_output=True, text=True, check=True).stdout


def _outcomes(kind_prefix):
    events = AuditEvent.objects.filter(action__startswith=kind_prefix).order_by("id")
    return list(events.values_list("action", "outcome"))


def test_a_pool_defined_stopped_started_refreshed_and_removed(local, pool_path, operator):
    name = Path(pool_path).name
    xml = Pool(type="dir", name=name, target=Target(path=pool_path)).to_xml()
    try:
        op = _run(
            pool_services.pool_create(actor=operator, host=local, name=name, xml=xml, build=True, autostart=False)
        )
        assert op.message == f"pool {name} defined and started"
        assert "State:          running" in _virsh("pool-info", name) and Path(pool_path).is_dir()
        pool = StoragePool.objects.get(host=local, name=name)
        assert op.target_id == str(pool.pk) and pool.state == "running"

        def act(action):
            _run(pool_services.pool_action(actor=operator, pool=pool, action=action))
            pool.refresh_from_db()

        act("stop")
        assert "State:          inactive" in _virsh("pool-info", name) and pool.state == "inactive"
        act("start")
        assert "State:          running" in _virsh("pool-info", name) and pool.state == "running"
        # A file put there by hand becomes a volume when the pool is refreshed (the runner re-reads it).
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", f"{pool_path}/by-hand.img", "1M"], check=True)
        act("refresh")
        assert pool.volumes.get(name="by-hand.img").capacity == MiB
        Path(pool_path, "by-hand.img").unlink()
        act("stop")
        act("delete")
        assert not Path(pool_path).exists()  # the pool's storage is gone; its definition stays
        assert name in _virsh("pool-list", "--all", "--name").split()
        act("undefine")
        assert name not in _virsh("pool-list", "--all", "--name").split()
        assert not pool.present  # the runner's own re-read: the row stays, marked gone
        steps = ["pool.create", "pool.stop", "pool.start", "pool.refresh", "pool.stop", "pool.delete", "pool.undefine"]
        assert _outcomes("pool.") == [(kind, outcome) for kind in steps for outcome in ("requested", "succeeded")]
    finally:  # whatever step failed, no pool is left behind
        for step in ("pool-destroy", "pool-undefine"):
            subprocess.run(["virsh", "-c", QEMU_URI, step, name], capture_output=True, check=False)


def test_volumes_created_grown_cloned_and_deleted(dir_pool, operator):
    path = dir_pool.target_path
    _run(
        volume_services.volume_create(
            actor=operator, pool=dir_pool, name="a.qcow2", capacity=16, unit="MiB", format="qcow2"
        )
    )
    info = _qemu_img(f"{path}/a.qcow2")
    assert "file format: qcow2" in info and "virtual size: 16 MiB" in info
    vol = dir_pool.volumes.get(name="a.qcow2")
    assert (vol.capacity, vol.format) == (16 * MiB, "qcow2")  # the worker refreshed the pool's inventory

    op = _run(volume_services.volume_resize(actor=operator, volume=vol, capacity=32, unit="MiB"))
    assert op.message == "grew a.qcow2 to 32 MiB"
    assert "virtual size: 32 MiB" in _qemu_img(f"{path}/a.qcow2")
    vol.refresh_from_db()
    assert vol.capacity == 32 * MiB

    _run(volume_services.volume_clone(actor=operator, volume=vol, new_name="b.qcow2"))
    copy = _qemu_img(f"{path}/b.qcow2")
    assert "virtual size: 32 MiB" in copy and "backing file" not in copy  # a copy of its own
    assert dir_pool.volumes.filter(name="b.qcow2").exists()

    for name in ("a.qcow2", "b.qcow2"):
        _run(volume_services.volume_delete(actor=operator, volume=dir_pool.volumes.get(name=name)))
        assert not Path(path, name).exists()
    assert not StorageVolume.objects.filter(pool=dir_pool).exists()
    assert [o for _kind, o in _outcomes("volume.")] == ["requested", "succeeded"] * 5


def test_a_wipe_zeroes_what_was_written_since_the_volume_was_made(dir_pool, operator):
    _run(volume_services.volume_create(actor=operator, pool=dir_pool, name="c.img", capacity=1, unit="MiB"))
    data = Path(dir_pool.target_path, "c.img")
    data.write_bytes(b"\xa5" * MiB)  # as a guest writes into its sparse disk
    op = _run(volume_services.volume_wipe(actor=operator, volume=dir_pool.volumes.get(name="c.img")))
    assert op.message == "wiped c.img"
    assert data.read_bytes() == bytes(MiB)  # zeroed, same size


@pytest.fixture
def defined():
    """Names of domains a test may have defined, removed afterwards."""
    names = []
    yield names
    for name in names:
        subprocess.run(["virsh", "-c", QEMU_URI, "undefine", name], capture_output=True, check=False)


def test_define_from_xml_and_the_xml_policy_again_on_the_worker(local, dir_pool, operator, defined):
    _run(
        volume_services.volume_create(
            actor=operator, pool=dir_pool, name="disk.qcow2", capacity=16, unit="MiB", format="qcow2"
        )
    )
    disk = dir_pool.volumes.get(name="disk.qcow2").path
    name = unique("kvmweb-test")
    defined.append(name)
    xml = Domain(name=name, memory_mib=64, domain_type="qemu", disks=[Disk(source=disk)]).to_xml()

    op = _run(vm_define_xml(actor=operator, host=local, xml=xml, name=name, vcpus=1, memory_mib=64))
    assert op.message == f"defined {name} from XML"
    assert disk in _virsh("domblklist", name)
    vm = VirtualMachine.objects.get(host=local, name=name)
    assert op.target_id == str(vm.pk) and vm.state == "shutoff"

    # The service alone does not read the XML (the form does); the worker's policy does, whatever
    # reached the queue: a path that is no volume of a pool the user may use is refused there.
    other = unique("kvmweb-test")
    defined.append(other)
    loose = Domain(name=other, memory_mib=64, domain_type="qemu", disks=[Disk(source=f"/var/lib/{other}.qcow2")])
    op = _run(
        vm_define_xml(actor=operator, host=local, xml=loose.to_xml(), name=other, vcpus=1, memory_mib=64), "failed"
    )
    assert f"/var/lib/{other}.qcow2 is not a volume of a pool you may use on {local.name}" in op.error
    assert other not in _virsh("list", "--all", "--name").split()
    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed", error=op.error).exists()


# Each runner family (the function registered for some kinds) and a test that runs it through the
# real worker on real QEMU. A new runner without a line here fails the test below.
THROUGH_THE_WORKER = {
    "apps.compute.runs.power.power": "tests/real/test_qemu_lifecycle.py::test_start_pause_resume_and_force_off_a_real_domain",
    "apps.compute.runs.disks.attach_detach": "tests/real/test_qemu_disks.py::test_attach_live_and_config_then_detach_a_virtio_and_a_scsi_disk",
    "apps.compute.runs.disks.new_or_resize": "tests/real/test_qemu_disks.py::test_a_new_volume_is_created_attached_live_and_grown_live",
    "apps.compute.runs.disks.cdrom": "tests/real/test_qemu_disks.py::test_cdrom_drive_added_then_an_iso_inserted_and_ejected_live",
    "apps.compute.runs.nics.nic": "tests/real/test_qemu_nics.py::test_nics_of_every_kind_added_linked_down_and_removed",
    "apps.compute.runs.snapshots.snapshot": "tests/real/test_qemu_snapshots.py::test_internal_snapshot_with_memory_and_revert",
    "apps.compute.runs.settings.settings": "tests/real/test_qemu_settings.py::test_vcpus_and_memory_live_where_qemu_allows_else_next_boot",
    "apps.compute.runs.display.display": "tests/consoles/test_display_settings.py::test_a_vnc_password_set_live_then_cleared_and_a_serial_console_added",
    "apps.consoles.runs.spice_ticket": "tests/consoles/test_spice.py::test_a_vv_file_carries_a_ticket_the_display_takes_for_two_minutes",
    "apps.compute.runs.xmledit.xml_edit": "tests/real/test_qemu_settings.py::test_title_live_and_an_xml_edit_libvirt_refuses",
    "apps.compute.runs.create.create": "tests/real/test_qemu_create.py::test_tiny_vm_with_a_new_qcow2_disk_boots_from_the_network",
    "apps.compute.runs.create.define": "tests/real/test_worker_families.py::test_define_from_xml_and_the_xml_policy_again_on_the_worker",
    "apps.compute.runs.clone.clone": "tests/real/test_qemu_clone_delete.py::test_a_clone_boots_beside_its_source_with_its_own_disk_and_mac",
    "apps.compute.runs.delete.delete": "tests/real/test_qemu_clone_delete.py::test_a_clone_boots_beside_its_source_with_its_own_disk_and_mac",
    "apps.storage.runs.pools.create": "tests/real/test_worker_families.py::test_a_pool_defined_stopped_started_refreshed_and_removed",
    "apps.storage.runs.pools.act": "tests/real/test_worker_families.py::test_a_pool_defined_stopped_started_refreshed_and_removed",
    "apps.storage.runs.pools.iso_library": "tests/real/test_qemu_disks.py::test_cdrom_drive_added_then_an_iso_inserted_and_ejected_live",
    "apps.storage.runs.volumes.volume": "tests/real/test_worker_families.py::test_volumes_created_grown_cloned_and_deleted",
    "apps.storage.runs.transfer.upload": "tests/storage/test_volumes_transfer.py::test_upload_then_download_is_byte_identical",
    "apps.storage.runs.transfer.download": "tests/storage/test_volumes_transfer.py::test_upload_then_download_is_byte_identical",
    "apps.storage.runs.secrets.define": "tests/storage/test_secrets.py::test_a_secret_travels_through_the_real_worker",
    "apps.storage.runs.secrets.set_value": "tests/storage/test_secrets.py::test_a_secret_travels_through_the_real_worker",
    "apps.storage.runs.secrets.delete": "tests/storage/test_secrets.py::test_a_secret_travels_through_the_real_worker",
    "apps.network.runs.networks.create": "tests/real/test_qemu_networks.py::test_a_network_with_dhcp_starts_with_its_bridge_and_dnsmasq",
    "apps.network.runs.networks.edit": "tests/real/test_qemu_networks.py::test_a_network_with_dhcp_starts_with_its_bridge_and_dnsmasq",
    "apps.network.runs.networks.act": "tests/real/test_qemu_networks.py::test_a_network_with_dhcp_starts_with_its_bridge_and_dnsmasq",
    "apps.network.runs.networks.delete": "tests/real/test_qemu_networks.py::test_a_network_with_dhcp_starts_with_its_bridge_and_dnsmasq",
    "apps.network.runs.networks.update": "tests/real/test_qemu_networks.py::test_a_domain_on_a_network_is_attached_holds_a_port_and_blocks_deletion",
}


def test_every_runner_family_has_a_test_through_the_real_worker():
    families = {f"{r.run.__module__}.{r.run.__qualname__}" for r in map(runners.get, runners.kinds())}
    assert sorted(families - THROUGH_THE_WORKER.keys()) == [], "runner families no real-worker test runs"
    assert sorted(THROUGH_THE_WORKER.keys() - families) == [], "listed families that are no runner any more"
    for test in set(THROUGH_THE_WORKER.values()):
        path, name = test.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), f"{test} does not exist"
