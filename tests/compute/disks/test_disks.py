"""Disks on the test driver: new volumes, live resize and CD-ROM media, as services and views.

The test driver cannot attach, update or resize devices (QEMU can: tests/real/test_qemu_disks.py),
so here the refusals are what is checked: bad input changes nothing, and libvirt's own refusal
ends the operation failed with its words and leaves no volume behind.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.accounts.services import team_create
from apps.compute.models import VirtualMachine
from apps.compute.quotas import QuotaExceeded
from apps.compute.services import disks as disk_services
from apps.compute.services.disks import DiskError
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.services.volumes import VolumeError
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume
from tests.helpers import make_vm, unique

pytestmark = pytest.mark.django_db
MiB = 1 << 20


@pytest.fixture
def pool(demo_host, test_driver):
    uuid = test_driver.storagePoolLookupByName("default-pool").UUIDString()
    pool = pool_refresh_inventory(test_driver, demo_host, uuid)
    yield pool
    for info in volume_virt.list_volumes(test_driver, uuid):
        if info.name.startswith("td-"):
            volume_virt.delete_quietly(test_driver, uuid, info.name)


@pytest.fixture
def vm(demo_host):
    return make_vm(demo_host, start=True)


def _new(actor, vm, pool, **kw):
    args = {"name": unique("td"), "capacity": "1", "unit": "GiB", "live": True, "config": True} | kw
    return disk_services.vm_disk_new(actor=actor, vm=vm, pool=pool, **args)


@pytest.mark.parametrize(
    "kw, error, says",
    [
        ({"name": "a/b"}, VolumeError, "'/'"),
        ({"name": "..x"}, VolumeError, "'..'"),
        ({"name": ""}, VolumeError, "name"),
        ({"capacity": "0"}, VolumeError, "more than 0"),
        ({"capacity": "-1"}, VolumeError, "negative"),
        ({"capacity": "abc"}, VolumeError, "not a number"),
        ({"capacity": "1", "unit": "PiB"}, VolumeError, "Unknown unit"),
        ({"capacity": "1000", "unit": "TiB"}, VolumeError, "more than the whole pool"),
        ({"format": "vmdk"}, VolumeError, "Format must be"),
        ({"bus": "floppy"}, DiskError, "Unknown bus"),
        ({"live": False, "config": False}, DiskError, "live, config or both"),
    ],
)
def test_bad_new_disk_input_is_refused_before_anything_is_queued(operator, vm, pool, kw, error, says):
    with pytest.raises(error, match=says):
        _new(operator, vm, pool, **kw)
    assert not Operation.objects.exists()


def test_new_disk_needs_storage_manage_on_the_pool_and_the_team_quota(operator, viewer, vm, pool):
    with pytest.raises(PermissionDenied):
        _new(viewer, vm, pool)
    team = team_create(actor=None, name=unique("team"), max_disk_gib=2)
    VirtualMachine.objects.filter(pk=vm.pk).update(team=team, disk_bytes=(3 << 29))  # 1.5 GiB in use
    vm.refresh_from_db()
    with pytest.raises(QuotaExceeded, match="over its quota of 2 GiB"):
        _new(operator, vm, pool, capacity="1")
    assert not Operation.objects.exists()
    op = _new(operator, vm, pool, capacity="256", unit="MiB")  # 1.75 GiB fits
    assert op.kind == "vm.disk_new" and op.params["capacity"] == 256 * MiB


def test_new_disk_refused_by_the_driver_fails_with_its_words_and_leaves_no_volume(operator, vm, pool, test_driver):
    name = unique("td")
    op = _new(operator, vm, pool, name=name, capacity="8", unit="MiB")
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert "not supported" in op.error  # the test driver has no attachDeviceFlags
    assert volume_virt.volume_info(test_driver, str(pool.uuid), name) is None
    assert not StorageVolume.objects.filter(pool=pool, name=name).exists()


def test_resize_is_live_and_grow_only(operator, demo_host, vm):
    stopped = make_vm(demo_host)
    with pytest.raises(DiskError, match="needs the VM running"):
        disk_services.vm_disk_resize(actor=operator, vm=stopped, target="vda", capacity="10", unit="GiB")
    with pytest.raises(DiskError, match="no disk vdz"):
        disk_services.vm_disk_resize(actor=operator, vm=vm, target="vdz", capacity="10", unit="GiB")
    with pytest.raises(DiskError, match="can only grow"):
        disk_services.vm_disk_resize(actor=operator, vm=vm, target="vda", capacity="1", unit="MiB")
    with pytest.raises(VolumeError, match="more than 0"):
        disk_services.vm_disk_resize(actor=operator, vm=vm, target="vda", capacity="0")
    with pytest.raises(DiskError, match="not a disk target"):
        disk_services.vm_disk_resize(actor=operator, vm=vm, target="../x", capacity="1")
    assert not Operation.objects.exists()
    op = disk_services.vm_disk_resize(actor=operator, vm=vm, target="vda", capacity="4", unit="TiB")
    op = operation_run(op.pk)
    assert op.status == "failed" and "not supported" in op.error  # the test driver cannot blockResize


def test_cdrom_insert_takes_only_iso_library_volumes(operator, vm, pool, test_driver):
    name = unique("td")
    volume_virt.create(test_driver, str(pool.uuid), Volume(name=name, capacity=MiB).to_xml())
    pool_refresh_inventory(test_driver, pool.host, str(pool.uuid))
    volume = StorageVolume.objects.get(pool=pool, name=name)
    with pytest.raises(DiskError, match="not in this host's ISO library"):
        disk_services.vm_cdrom_insert(actor=operator, vm=vm, target="sda", volume=volume)
    StoragePool.objects.filter(pk=pool.pk).update(is_iso_library=True)
    volume.pool.refresh_from_db()
    op = disk_services.vm_cdrom_insert(actor=operator, vm=vm, target="sda", volume=volume, live=True, config=True)
    op = operation_run(op.pk)
    assert op.status == "failed" and "no CD-ROM drive sda" in op.error
    with pytest.raises(DiskError, match="Unknown CD-ROM bus"):
        disk_services.vm_cdrom_add(actor=operator, vm=vm, bus="usb")


# -- the tab --------------------------------------------------------------------------------


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_tab_shows_disks_and_the_forms_to_whoever_may_edit(operator, viewer, vm, pool):
    page = _client(operator).get(reverse("compute:vm_disks", args=[vm.pk])).content.decode()
    assert 'data-target="vda"' in page
    assert "Attach a new volume" in page and "default-pool" in page
    assert "This VM has no CD-ROM drive" in page
    assert "Grow" in page and "--live --config" in page
    page = _client(viewer).get(reverse("compute:vm_disks", args=[vm.pk])).content.decode()
    assert 'data-target="vda"' in page and "Attach a new volume" not in page and "Grow" not in page


def test_bad_new_disk_post_answers_with_the_reason_by_the_form(operator, vm, pool):
    c = _client(operator)
    url = reverse("compute:vm_disk_new", args=[vm.pk])
    data = {"pool": pool.pk, "name": "../etc", "capacity": "1", "unit": "GiB", "format": "qcow2", "live": "on"}
    response = c.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "it is a file name, not a path" in body and 'value="../etc"' in body  # kept for correcting
    assert f'hx-get="{reverse("compute:vm_disks", args=[vm.pk])}"' in body  # the tab still re-reads itself
    assert c.post(url, data).status_code == 400
    assert not Operation.objects.exists()
    data["name"] = unique("td")
    response = c.post(url, data, HTTP_HX_REQUEST="true")
    assert "Queued (vm.disk_new)" in response.content.decode()
    assert Operation.objects.get().params["name"] == data["name"]


def test_viewer_post_is_refused_and_nothing_is_queued(viewer, vm, pool):
    c = _client(viewer)
    for url in (
        reverse("compute:vm_disk_new", args=[vm.pk]),
        reverse("compute:vm_disk_resize", args=[vm.pk, "vda"]),
        reverse("compute:vm_cdrom_media", args=[vm.pk, "sda", "eject"]),
        reverse("compute:vm_cdrom_add", args=[vm.pk]),
    ):
        assert c.post(url, {"pool": pool.pk, "name": "x", "capacity": "1"}).status_code == 403
    assert not Operation.objects.exists()
