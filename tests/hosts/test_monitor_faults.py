"""One odd object does not stop a host's sync, and a failure that repeats is logged once.

The odd objects live on a private test-driver hypervisor read from a node file (`test:///path`):
its state belongs to the process that opens it, so nothing here touches what other tests keep on
the shared libvirtd. The test driver gives every pool 100 GiB; a volume that allocates more makes
the pool's available size (capacity - allocation, unsigned) wrap around to about 16 EiB, past a
signed 64-bit column. Names longer than the inventory's 255 characters stand for an object the
database cannot take at all.
"""

import logging
import threading

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from apps.compute.models import VirtualMachine
from apps.compute.virt.xml import Domain
from apps.core.errors import VirtError
from apps.hosts import monitor as monitor_module
from apps.hosts.models import Host
from apps.hosts.monitor import Faults, Monitor, Session
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from apps.storage.handlers import sync_pools
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.inventory import SIZE_LIMIT
from apps.storage.virt.pool_xml import Pool, Target
from apps.storage.virt.volume_xml import Volume
from tests.helpers import wait_for

GiB = 2**30
LONG_VM = "v" * 300
LONG_POOL = "p" * 300
LONG_VOLUME = "x" * 300


def _pool(name, *volumes):
    el = Pool(type="dir", name=name, target=Target(f"/{name[:20]}")).to_element()
    for volume in volumes:
        el.append(volume.to_element())
    return el


def node_uri(tmp_path, *, vms=("vm-a", LONG_VM, "vm-b"), pools=()):
    """A test-driver URI whose hypervisor has these domains and pools (lxml elements)."""
    node = etree.Element("node")
    for name in vms:
        node.append(Domain(name=name, memory_mib=64, vcpus=1, domain_type="test").to_element())
    for pool in pools:
        node.append(pool)
    path = tmp_path / "node.xml"
    path.write_bytes(etree.tostring(node))
    return f"test://{path}"


@pytest.fixture(autouse=True)
def fresh_faults(monkeypatch):
    """Each test starts with nothing failing (the monitor's record of faults is per process)."""
    faults = Faults()
    monkeypatch.setattr(monitor_module, "faults", faults)
    return faults


@pytest.fixture
def monitor(transactional_db):
    m = Monitor(tick=0.3, reconnect_max=1.0)
    thread = threading.Thread(target=m.run, daemon=True)
    thread.start()
    yield m
    m.stop()
    thread.join(timeout=10)


def _errors(caplog, text):
    return [r for r in caplog.records if r.levelno >= logging.ERROR and text in r.getMessage()]


def _monitor_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "apps.hosts.monitor"]


def test_a_pool_of_impossible_size_is_stored_and_marked_and_the_host_still_syncs(
    monitor, admin, tmp_path, caplog, fresh_faults
):
    caplog.set_level(logging.INFO, logger="apps.hosts.monitor")
    uri = node_uri(
        tmp_path,
        pools=[
            _pool("odd", Volume(name="huge.img", capacity=GiB, allocation=200 * GiB)),
            _pool(LONG_POOL),
            _pool("fine", Volume(name="disk.img", capacity=GiB)),
        ],
    )
    host = host_create(actor=None, name="odd", uri=uri)
    wait_for(
        lambda: (
            set(VirtualMachine.objects.filter(host=host, present=True).values_list("name", flat=True))
            == {"vm-a", "vm-b"}
        ),
        message="the host's other VMs synced",
    )
    wait_for(
        lambda: (
            set(StoragePool.objects.filter(host=host, present=True).values_list("name", flat=True)) == {"odd", "fine"}
        ),
        message="the odd pool and the host's other pool synced",
    )
    wait_for(lambda: StorageVolume.objects.filter(pool__host=host).count() == 2, message="their volumes")
    # Several ticks with the long-named VM failing on each one.
    wait_for(lambda: fresh_faults.count((host.pk, f"VM {LONG_VM}")) >= 3, message="three failing ticks")

    odd = StoragePool.objects.get(host=host, name="odd")
    assert (odd.capacity, odd.allocation, odd.available) == (100 * GiB, 200 * GiB, SIZE_LIMIT)
    assert StorageVolume.objects.get(pool=odd).allocation == 200 * GiB
    assert Host.objects.get(pk=host.pk).state == "up"
    assert not VirtualMachine.objects.filter(host=host, name=LONG_VM).exists()

    # Logged once with its traceback, not once a tick.
    vm_errors = _errors(caplog, LONG_VM)
    assert len(vm_errors) == 1 and vm_errors[0].exc_info is not None
    assert len(_errors(caplog, LONG_POOL)) == 1

    client = Client()
    client.force_login(admin)
    page = client.get(reverse("storage:pool_detail", args=[odd.pk])).content.decode()
    assert "libvirt reports an impossible size for this pool" in page
    assert "100 GiB · 200 GiB allocated · " in page
    listing = client.get(reverse("storage:pool_list") + f"?host={host.pk}").content.decode()
    assert "impossible size" in listing


@pytest.mark.django_db
def test_a_failure_that_repeats_is_logged_once_with_a_count_and_when_it_clears(
    tmp_path, caplog, monkeypatch, fresh_faults
):
    caplog.set_level(logging.INFO, logger="apps.hosts.monitor")
    uri = node_uri(
        tmp_path,
        vms=[],
        pools=[
            _pool("fine", Volume(name=LONG_VOLUME, capacity=GiB)),
            _pool("other", Volume(name="a.img", capacity=GiB)),
        ],
    )
    host = host_create(actor=None, name="odd", uri=uri)
    conn = connection.open_connection(uri)  # one private hypervisor for the whole test
    label = "volumes of pool fine"

    for _ in range(3):
        sync_pools(host, conn)
    assert [r.exc_info is not None for r in _errors(caplog, label)] == [True]
    assert fresh_faults.count((host.pk, label)) == 3
    # The other pool's volumes are synced all the same.
    assert list(StorageVolume.objects.filter(pool__name="other").values_list("name", flat=True)) == ["a.img"]

    monkeypatch.setattr(monitor_module, "REPEAT_LOG_EVERY", 0.0)
    sync_pools(host, conn)
    still = _errors(caplog, label)[1:]
    assert len(still) == 1 and still[0].exc_info is None
    assert f"odd: {label} still failing, same error 4 times: DataError" in still[0].getMessage()

    conn.storagePoolLookupByName("fine").storageVolLookupByName(LONG_VOLUME).delete(0)
    caplog.clear()
    sync_pools(host, conn)
    assert _monitor_lines(caplog) == [f"monitor: odd: {label} works again after failing 4 times"]
    assert fresh_faults.count((host.pk, label)) == 0
    conn.close()


@pytest.mark.django_db
def test_one_handler_failing_does_not_skip_the_others_nor_mark_a_live_host_down(tmp_path, caplog, monkeypatch):
    uri = node_uri(tmp_path, vms=["vm-a"])
    host = host_create(actor=None, name="odd", uri=uri)
    calls = []

    def confused(host, conn):
        raise VirtError("this driver cannot list that")

    def fine(host, conn):
        calls.append(host.pk)

    monkeypatch.setattr(monitor_module, "_tick_handlers", [(confused, None), (fine, None)])
    session = Session(host)
    session.conn = connection.open_connection(uri)
    m = Monitor(tick=1.0, reconnect_max=1.0)
    m.tick_host(session)
    m.tick_host(session)

    assert calls == [host.pk, host.pk]
    assert session.connected
    assert Host.objects.get(pk=host.pk).state != "down"
    assert len(_errors(caplog, "this driver cannot list that")) == 1
    session.conn.close()
