"""Volumes against the libvirt test driver through the daemon: XML, input rules, services and
their worker side run in-process, and the views.

The test driver creates, clones and deletes volumes but has no resize, wipe, upload or download:
those show here as operations failing with libvirt's own words (and the upload then removes the
volume it made). Their real behaviour is in test_volumes_real.py and test_volumes_transfer.py.
Set KVMWEB_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

import os
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from lxml import etree

from apps.audit.models import AuditEvent
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.forms.volumes import VolumeCreateForm
from apps.storage.models import StorageVolume
from apps.storage.services import transfer
from apps.storage.services import volumes as services
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import BackingStore, Permissions, Volume
from tests.helpers import unique

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden" / "volumes"
SCHEMA = Path("/usr/share/libvirt/schemas/storagevol.rng")
GiB = 1 << 30
MiB = 1 << 20

XML_CASES = {
    "raw_sparse": Volume(name="data.img", capacity=10 * GiB, format="raw"),
    "qcow2_preallocated": Volume(name="web01.qcow2", capacity=10 * GiB, allocation=10 * GiB, format="qcow2"),
    "qcow2_overlay": Volume(
        name="web02.qcow2",
        capacity=10 * GiB,
        format="qcow2",
        backing=BackingStore(path="/var/lib/libvirt/images/base.qcow2", format="qcow2"),
        permissions=Permissions(mode="0640", owner=107, group=107, label="system_u:object_r:virt_image_t:s0"),
    ),
}


@pytest.mark.parametrize("case", sorted(XML_CASES))
def test_volume_xml_matches_its_golden_file_and_libvirts_schema(case):
    xml = XML_CASES[case].to_xml()
    golden = GOLDEN / f"{case}.xml"
    if os.environ.get("KVMWEB_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(xml)
    assert xml == golden.read_text()
    if SCHEMA.exists():
        schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
        assert schema.validate(etree.fromstring(xml)), schema.error_log


@pytest.fixture
def pool(demo_host, test_driver):
    """The test driver's own 100 GiB dir pool, in the inventory; our volumes removed afterwards."""
    uuid = test_driver.storagePoolLookupByName("default-pool").UUIDString()
    pool = pool_refresh_inventory(test_driver, demo_host, uuid)
    yield pool
    for info in volume_virt.list_volumes(test_driver, uuid):
        if info.name.startswith("tv-"):
            volume_virt.delete_quietly(test_driver, uuid, info.name)


def _run(op):
    """The worker's side, in this process (the real worker is exercised in test_volumes_transfer)."""
    return operation_run(op.pk)


def _libvirt_names(conn, pool):
    return {v.name for v in volume_virt.list_volumes(conn, str(pool.uuid))}


def test_xml_round_trips_through_libvirts_parser(pool, test_driver):
    name = unique("tv")
    info = volume_virt.create(test_driver, str(pool.uuid), Volume(name=name, capacity=3 * MiB, format="qcow2").to_xml())
    assert (info.name, info.capacity, info.format) == (name, 3 * MiB, "qcow2")


@pytest.mark.parametrize(
    "amount,unit,expected",
    [
        ("10", "GiB", 10 * GiB),
        ("10", "G", 10 * GiB),
        ("10", "g", 10 * GiB),
        ("1.5", "KiB", 1536),
        ("64", "M", 64 * MiB),
        ("2", "TiB", 2 << 40),
        ("512", "B", 512),
        (7, "k", 7168),
    ],
)
def test_sizes_take_binary_units(amount, unit, expected):
    assert services.parse_size(amount, unit) == expected


@pytest.mark.parametrize(
    "amount,unit,words",
    [
        ("0", "GiB", "more than 0"),
        ("0.1", "B", "more than 0"),
        ("-1", "GiB", "negative"),
        ("ten", "GiB", "not a number"),
        ("", "GiB", "Give a capacity"),
        ("inf", "GiB", "finite"),
        ("NaN", "GiB", "finite"),
        ("10", "GB", "Unknown unit"),
        ("10", "MB", "Unknown unit"),
        ("10", "parsec", "Unknown unit"),
        ("10", "", "Unknown unit"),
    ],
)
def test_bad_sizes_are_refused_with_a_clear_message(amount, unit, words):
    with pytest.raises(services.VolumeError, match=words):
        services.parse_size(amount, unit)


BAD_NAMES = {
    "a/b": "'/'",
    "../etc": "'/'",
    "..": "'..'",
    "a..b": "'..'",
    "x\x00y": "NUL",
    "-rf": "'-'",
    "": "name",
    "   ": "name",
    "x" * 256: "255 bytes",
    "é" * 128: "255 bytes",
    ".hidden": "'.'",
    " lead": "spaces",
    "tab\tname": "control",
    "back\\slash": "'/' or",
}


@pytest.mark.parametrize("name", sorted(BAD_NAMES))
def test_bad_names_are_refused(name):
    with pytest.raises(services.VolumeError, match=BAD_NAMES[name]):
        services.validate_name(name)


@pytest.mark.parametrize("name", ["web01.qcow2", "Win 10 (x64).iso", "é" * 127, "a.b-c_d", "x" * 255])
def test_good_names_pass(name):
    assert services.validate_name(name) == name


def _nothing_changed(before_audit, names_before, conn, pool):
    assert Operation.objects.count() == 0
    assert AuditEvent.objects.count() == before_audit
    assert _libvirt_names(conn, pool) == names_before


def _existing_volume(pool, conn, name=None, capacity=8 * MiB, fmt="qcow2"):
    name = name or unique("tv")
    volume_virt.create(conn, str(pool.uuid), Volume(name=name, capacity=capacity, format=fmt).to_xml())
    pool_refresh_inventory(conn, pool.host, str(pool.uuid))
    return StorageVolume.objects.get(pool=pool, name=name)


def test_every_bad_create_is_refused_before_anything_changes(pool, operator, test_driver):
    existing = _existing_volume(pool, test_driver)
    raw = _existing_volume(pool, test_driver, fmt="raw")
    before, names = AuditEvent.objects.count(), _libvirt_names(test_driver, pool)
    bad = [
        ({"name": "a/b", "capacity": "1"}, "'/'"),
        ({"name": "..", "capacity": "1"}, "'..'"),
        ({"name": "a\x00", "capacity": "1"}, "NUL"),
        ({"name": "-x", "capacity": "1"}, "'-'"),
        ({"name": "", "capacity": "1"}, "name"),
        ({"name": "x" * 300, "capacity": "1"}, "255"),
        ({"name": unique("tv"), "capacity": "0"}, "more than 0"),
        ({"name": unique("tv"), "capacity": "-5"}, "negative"),
        ({"name": unique("tv"), "capacity": "101"}, "more than the whole pool"),
        ({"name": unique("tv"), "capacity": "100", "preallocate": True, "unit": "TiB"}, "more than the whole pool"),
        ({"name": unique("tv"), "capacity": "1", "unit": "GB"}, "Unknown unit"),
        ({"name": unique("tv"), "capacity": "1", "format": "vmdk"}, "Format"),
        ({"name": unique("tv"), "capacity": "1", "format": "raw", "backing": existing}, "qcow2"),
        ({"name": unique("tv"), "capacity": "1", "backing": existing, "preallocate": True}, "preallocated"),
        ({"name": existing.name, "capacity": "1"}, "already exists"),
    ]
    for kwargs, words in bad:
        kwargs = {"unit": "GiB", "format": "qcow2", **kwargs}
        with pytest.raises(services.VolumeError, match=words):
            services.volume_create(actor=operator, pool=pool, **kwargs)
    for kwargs, words in [
        ({"capacity": "8", "unit": "MiB"}, "already"),
        ({"capacity": "4", "unit": "MiB"}, "allow shrinking"),
        ({"capacity": "200", "unit": "GiB"}, "whole pool"),
        ({"capacity": "9", "unit": "mb"}, "Unknown unit"),
    ]:
        with pytest.raises(services.VolumeError, match=words):
            services.volume_resize(actor=operator, volume=existing, **kwargs)
    for new_name, words in [(raw.name, "already exists"), ("a/b", "'/'"), ("", "name")]:
        with pytest.raises(services.VolumeError, match=words):
            services.volume_clone(actor=operator, volume=existing, new_name=new_name)
    _nothing_changed(before, names, test_driver, pool)


def test_a_preallocated_volume_must_fit_in_what_is_available(pool, operator):
    pool.available = 5 * GiB
    pool.save(update_fields=["available"])
    with pytest.raises(services.VolumeError, match="needs that much free space"):
        services.volume_create(actor=operator, pool=pool, name=unique("tv"), capacity="6", unit="GiB", preallocate=True)
    # sparse may overcommit what is free, up to the pool's whole capacity
    assert services.volume_create(actor=operator, pool=pool, name=unique("tv"), capacity="6", unit="GiB")


def test_an_inactive_pool_takes_no_volumes(pool, operator):
    pool.state = "inactive"
    pool.save(update_fields=["state"])
    with pytest.raises(services.VolumeError, match="not active"):
        services.volume_create(actor=operator, pool=pool, name=unique("tv"), capacity="1", unit="GiB")


def test_every_bad_upload_is_refused_before_anything_changes(pool, operator, test_driver, settings):
    settings.KVMWEB_UPLOAD_MAX_BYTES = 10 * MiB
    existing = _existing_volume(pool, test_driver, capacity=4 * MiB)
    before, names = AuditEvent.objects.count(), _libvirt_names(test_driver, pool)
    for kwargs, words in [
        ({"name": "a/b", "size": 10}, "'/'"),
        ({"name": unique("tv"), "size": 0}, "empty"),
        ({"name": unique("tv"), "size": -3}, "empty"),
        ({"name": unique("tv"), "size": "lots"}, "whole number"),
        ({"name": unique("tv"), "size": 10 * MiB + 1}, "upload limit"),
        ({"name": existing.name, "size": 10}, "already exists"),
        ({"name": unique("tv"), "size": 10, "existing": True}, "no volume named"),
        ({"name": existing.name, "size": 5 * MiB, "existing": True}, "does not fit"),
    ]:
        with pytest.raises(services.VolumeError, match=words):
            transfer.volume_upload(actor=operator, pool=pool, **kwargs)
    _nothing_changed(before, names, test_driver, pool)


def test_the_form_shows_the_same_rules_by_field(pool, operator, test_driver):
    existing = _existing_volume(pool, test_driver, fmt="raw")
    data = {"name": "..x", "capacity": "1", "unit": "parsec", "format": "raw", "allocation": "sparse"}
    form = VolumeCreateForm(data, pool=pool)
    assert not form.is_valid()
    assert "'..'" in form.errors["name"][0] and "Unknown unit" in form.errors["unit"][0]
    data = {"name": existing.name, "capacity": "2", "unit": "TiB", "format": "raw", "backing": existing.pk}
    form = VolumeCreateForm({**data, "allocation": "preallocated"}, pool=pool)
    assert not form.is_valid()
    assert "already exists" in form.errors["name"][0]
    assert "qcow2" in form.errors["backing"][0]
    assert "cannot be preallocated" in form.errors["allocation"][0]
    assert "whole pool" in form.errors["capacity"][0]


def test_create_clone_delete_run_on_the_worker_side(pool, operator, test_driver):
    name, copy = unique("tv"), unique("tv")
    op = services.volume_create(actor=operator, pool=pool, name=name, capacity="5", unit="MiB", format="qcow2")
    assert (op.status, op.kind, op.params["capacity"], op.target_name) == (
        "queued",
        "volume.create",
        5 * MiB,
        f"{pool.name}/{name}",
    )
    op = _run(op)
    assert op.status == "succeeded", op.error
    vol = StorageVolume.objects.get(pool=pool, name=name)
    assert (vol.format, vol.capacity, op.target_id) == ("qcow2", 5 * MiB, str(vol.pk))
    outcomes = list(AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("action", "outcome"))
    assert outcomes == [("volume.create", "requested"), ("volume.create", "succeeded")]

    op = _run(services.volume_clone(actor=operator, volume=vol, new_name=copy))
    assert op.status == "succeeded", op.error
    assert StorageVolume.objects.get(pool=pool, name=copy).capacity == 5 * MiB

    op = _run(services.volume_delete(actor=operator, volume=vol))
    assert op.status == "succeeded", op.error
    assert not StorageVolume.objects.filter(pool=pool, name=name).exists()
    assert name not in _libvirt_names(test_driver, pool)


def test_an_overlay_names_its_backing_volume(pool, operator, test_driver):
    base = _existing_volume(pool, test_driver, capacity=6 * MiB)
    name = unique("tv")
    op = _run(services.volume_create(actor=operator, pool=pool, name=name, backing=base, format="qcow2"))
    assert op.status == "succeeded", op.error
    assert op.params["capacity"] == 6 * MiB  # empty capacity: the backing volume's
    assert op.params["backing"]["path"] == base.path


@pytest.mark.parametrize("action", ["resize", "wipe"])
def test_what_the_driver_cannot_do_fails_with_libvirts_words(pool, operator, test_driver, action):
    vol = _existing_volume(pool, test_driver)
    if action == "resize":
        op = services.volume_resize(actor=operator, volume=vol, capacity="16", unit="MiB")
    else:
        op = services.volume_wipe(actor=operator, volume=vol)
    op = _run(op)
    assert op.status == "failed" and "not supported" in op.error


def test_an_upload_the_driver_refuses_leaves_no_volume(pool, operator, test_driver):
    name = unique("tv")
    op = transfer.volume_upload(actor=operator, pool=pool, name=name, size=MiB)
    op = operation_run(op.pk)
    assert op.status == "failed" and "not supported" in op.error
    assert name not in _libvirt_names(test_driver, pool)
    assert not StorageVolume.objects.filter(pool=pool, name=name).exists()


def test_the_worker_checks_the_right_again(pool, operator, test_driver):
    op = services.volume_create(actor=operator, pool=pool, name=unique("tv"), capacity="1", unit="MiB")
    operator.grants.all().delete()
    op = _run(op)
    assert op.status == "failed" and "may not" in op.error
    assert op.params["name"] not in _libvirt_names(test_driver, pool)


def test_a_viewer_is_refused_every_volume_service(pool, viewer, test_driver):
    vol = _existing_volume(pool, test_driver)
    calls = [
        lambda: services.volume_create(actor=viewer, pool=pool, name=unique("tv"), capacity="1"),
        lambda: services.volume_resize(actor=viewer, volume=vol, capacity="9", unit="MiB"),
        lambda: services.volume_clone(actor=viewer, volume=vol, new_name=unique("tv")),
        lambda: services.volume_wipe(actor=viewer, volume=vol),
        lambda: services.volume_delete(actor=viewer, volume=vol),
        lambda: transfer.volume_upload(actor=viewer, pool=pool, name=unique("tv"), size=10),
        lambda: transfer.volume_download(actor=viewer, volume=vol),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert Operation.objects.count() == 0
    assert AuditEvent.objects.filter(outcome="denied", actor=viewer).count() == len(calls)


def test_a_queued_transfer_cancels_at_once(pool, operator, admin):
    op = transfer.volume_upload(actor=operator, pool=pool, name=unique("tv"), size=10)
    op = transfer.transfer_cancel(actor=admin, op=op)
    assert op.status == "cancelled" and "alice-admin" in op.error
    assert operation_run(op.pk).status == "cancelled"  # the task does nothing


def test_chunks_are_checked_before_they_reach_redis(pool, operator, admin):
    op = transfer.volume_upload(actor=operator, pool=pool, name=unique("tv"), size=MiB + 100)
    with pytest.raises(PermissionDenied):
        transfer.upload_chunk(actor=admin, op=op, offset=0, data=b"x")  # not the one who started it
    assert transfer.upload_chunk(actor=operator, op=op, offset=0, data=b"a" * MiB)["received"] == MiB
    assert transfer.upload_chunk(actor=operator, op=op, offset=0, data=b"a" * MiB)["received"] == MiB  # a retry
    with pytest.raises(transfer.TransferError) as wrong_offset:
        transfer.upload_chunk(actor=operator, op=op, offset=5, data=b"b")
    assert wrong_offset.value.status == 409 and wrong_offset.value.extra == {"received": MiB}
    with pytest.raises(transfer.TransferError, match="larger than the declared"):
        transfer.upload_chunk(actor=operator, op=op, offset=MiB, data=b"c" * 101)
    with pytest.raises(transfer.TransferError, match="at most 2 MiB"):
        transfer.upload_chunk(actor=operator, op=op, offset=MiB, data=b"c" * (2 * MiB + 1))
    from apps.storage.services.pipe import Pipe

    pipe = Pipe(op.pk)
    assert pipe.pop() == (b"d", b"a" * MiB)
    tag, reason = pipe.pop()
    assert tag == b"x" and b"larger than the declared" in reason
    pipe.close()


def test_long_transfers_are_not_reaped_as_stale(pool, operator):
    from datetime import timedelta

    from django.utils import timezone

    from apps.operations.services import operations_reap_stale

    two_hours_ago = timezone.now() - timedelta(hours=2)
    upload = transfer.volume_upload(actor=operator, pool=pool, name=unique("tv"), size=10)
    plain = services.volume_create(actor=operator, pool=pool, name=unique("tv"), capacity="1")
    Operation.objects.filter(pk__in=[upload.pk, plain.pk]).update(status="running", started_at=two_hours_ago)
    assert operations_reap_stale() == 1
    assert Operation.objects.get(pk=upload.pk).status == "running"
    assert Operation.objects.get(pk=plain.pk).status == "lost"


def test_transfer_runners_carry_the_limit_the_reaper_honours():
    from apps.operations import runners

    assert runners.get("volume.upload").soft_time_limit == transfer.TIME_LIMIT
    assert runners.get("volume.download").soft_time_limit == transfer.TIME_LIMIT


def test_progress_and_cancel_requests_for_running_work(pool, operator, admin):
    from apps.operations.services import operation_cancel, operation_cancel_requested, operation_progress

    op = transfer.volume_upload(actor=operator, pool=pool, name=unique("tv"), size=10)
    operation_progress(op, 50, "half")
    assert Operation.objects.get(pk=op.pk).progress == 0  # only running work moves
    Operation.objects.filter(pk=op.pk).update(status="running")
    operation_progress(op, 150, "all of it")
    op.refresh_from_db()
    assert (op.progress, op.message) == (99, "all of it")  # 100 is for "succeeded"
    assert operation_cancel_requested(op) == ""
    assert operation_cancel(actor=admin, op=op).status == "running"  # asked, not forced
    assert operation_cancel_requested(op) == "alice-admin"
