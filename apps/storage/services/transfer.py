"""Upload into and download from volumes, streamed browser ⇄ web ⇄ Redis ⇄ worker ⇄ libvirt.

Upload: `volume_upload` queues the Operation with the declared size; its worker creates the volume
(raw, capacity = declared size) unless an existing one was chosen, then writes what arrives into a
libvirt stream. The browser POSTs the file in CHUNK_SIZE pieces, in order, to a web endpoint that
calls `upload_chunk`, which checks the offset and the declared size and pushes the piece into the
operation's pipe. A cancel, more data than declared, data ending short or a stall aborts the
stream and deletes the volume the worker created: an interrupted upload leaves no half volume.

Download: `volume_download` queues the Operation; its worker announces the length, then pushes what
libvirt streams; the web endpoint takes the announcement (`download_begin`) and relays the pieces
to the browser as they come.
"""

import time

from django.conf import settings
from django.core.exceptions import PermissionDenied

from apps.audit import registry
from apps.authz.rights import authorize
from apps.operations.models import Status
from apps.operations.services import (
    operation_cancel,
    operation_cancel_requested,
)
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.pipe import CHUNK_SIZE, Pipe
from apps.storage.services.volumes import (
    NewVolume,
    VolumeError,
    check_new_name,
    check_pool,
    check_space,
    human,
    queue,
)

registry.register("volume.upload", "uploaded into volume")
registry.register("volume.download", "downloaded volume")

TIME_LIMIT = 24 * 3600  # a transfer's own limit (the task's and the reaper's); stalls end it sooner
PUSH_WAIT = 60  # seconds the web endpoint waits for room before telling the browser to give up


def upload_max_bytes():
    return getattr(settings, "KVMWEB_UPLOAD_MAX_BYTES", 64 << 30)


def stall_seconds():
    return getattr(settings, "KVMWEB_TRANSFER_STALL_SECONDS", 120)


class TransferError(VolumeError):
    """A refused chunk or download request; `status` is the HTTP answer the view gives."""

    def __init__(self, message, status=400, **extra):
        super().__init__(message)
        self.status, self.extra = status, extra


def volume_upload(*, actor, pool, name, size, existing=False):
    """Queue an upload of `size` bytes into a new raw volume `name`, or into an existing one."""
    authorize(actor, "storage.manage", pool)
    check_pool(pool)
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise VolumeError("The declared size must be a whole number of bytes.") from None
    if size <= 0:
        raise VolumeError("The file is empty.")
    if size > upload_max_bytes():
        raise VolumeError(f"{human(size)} is more than the upload limit ({human(upload_max_bytes())}).")
    if existing:
        target = StorageVolume.objects.filter(pool=pool, name=name).first()
        if target is None:
            raise VolumeError(f"Pool {pool.name} has no volume named {name}.")
        if size > target.capacity:
            raise VolumeError(f"{human(size)} does not fit in {name} ({human(target.capacity)}).")
    else:
        check_new_name(pool, name)
        check_space(capacity=size, pool_capacity=pool.capacity, available=pool.available, preallocate=True)
        target = NewVolume(pool, name)
    params = {"name": name, "size": size, "existing": bool(existing)}
    return queue(actor, "volume.upload", target, pool, params)


def volume_download(*, actor, volume):
    authorize(actor, "storage.manage", volume)
    check_pool(volume.pool)
    params = {"name": volume.name}
    return queue(actor, "volume.download", volume, volume.pool, params)


def transfer_cancel(*, actor, op):
    """Cancel an upload or download: anyone who may manage the pool may stop it."""
    pool = StoragePool.objects.select_related("host").get(pk=op.params["pool_id"])
    authorize(actor, "storage.manage", pool)
    return operation_cancel(actor=actor, op=op)


def _own_transfer(actor, op):
    """Only the person who started a transfer feeds or reads it, and only while they still may."""
    pool = StoragePool.objects.select_related("host").get(pk=op.params["pool_id"])
    authorize(actor, "storage.manage", pool)
    if op.actor_id != actor.pk:
        raise PermissionDenied("Only the person who started this transfer can send or receive its data.")


def _alive(op):
    op.refresh_from_db(fields=["status", "error", "progress"])
    if op.status in (Status.FAILED, Status.CANCELLED):
        raise TransferError(op.error or f"The transfer was {op.status}.", status=410)
    if operation_cancel_requested(op):
        raise TransferError("The transfer was cancelled.", status=410)


# -- the web side ----------------------------------------------------------------------------


def upload_chunk(*, actor, op, offset, data, last=False):
    """Take one piece of an upload, in order. Returns what the browser needs to go on."""
    _own_transfer(actor, op)
    try:
        offset = int(offset)
    except (TypeError, ValueError):
        raise TransferError("Say where the data starts: ?offset=<bytes>.") from None
    if offset < 0:
        raise TransferError("The offset cannot be negative.")
    _alive(op)
    size, pipe = op.params["size"], Pipe(op.pk)
    if len(data) > CHUNK_SIZE:
        raise TransferError(f"A chunk can be at most {human(CHUNK_SIZE)}.")
    if offset + len(data) > size:
        pipe.abort(f"The data is larger than the declared {size} bytes.")
        raise TransferError(f"The data is larger than the declared {size} bytes; the upload is abandoned.")
    deadline = time.monotonic() + PUSH_WAIT
    delay, checked = 0.01, time.monotonic()
    while data:
        status, received = pipe.offer(offset, data)
        if status == 1 or (status == -1 and received == offset + len(data)):
            break  # pushed, or a retry of a piece that had arrived
        if status == -1:
            raise TransferError(f"Expected the data from byte {received}, not {offset}.", 409, received=received)
        if time.monotonic() > deadline:
            raise TransferError("The worker is not taking the data; is a worker running for this host?", 503)
        if time.monotonic() - checked > 1:
            _alive(op)
            checked = time.monotonic()
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
    received = offset + len(data)
    if last and received < size:
        pipe.abort(f"The data ended at {received} of the declared {size} bytes.")
        raise TransferError(f"The data ended at {received} of the declared {size} bytes; the upload is abandoned.")
    return {"received": received, "size": size, "progress": op.progress, "status": op.status}


def download_begin(*, actor, op, timeout=30):
    """Wait for the worker's announcement; returns {"length", "filename"}."""
    _own_transfer(actor, op)
    _alive(op)
    try:
        meta = Pipe(op.pk).take_announcement(timeout=timeout, check=lambda: _alive(op))
    except TimeoutError:
        raise TransferError("The worker did not start the download; is a worker running for this host?", 504) from None
    if meta is None:
        raise TransferError("This download is already being read.", status=409)
    if "error" in meta:
        raise TransferError(meta["error"], status=409)
    return meta
