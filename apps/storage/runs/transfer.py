"""Uploads and downloads on the worker: bytes stream between the browser's requests and libvirt
through a Redis pipe (services/transfer.py holds the web half). Transfers run as long as the
data keeps coming (a stall ends them sooner), so they carry their own time limit."""

import time

from apps.core.errors import OperationError
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.runners import runner
from apps.operations.services import operation_check_cancel, operation_progress
from apps.storage import images
from apps.storage.images import HEAD_BYTES, refuse_linked  # the check on the way in
from apps.storage.models import StorageVolume
from apps.storage.services.pipe import ABORT, CHUNK_SIZE, DATA, Pipe
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.services.transfer import TIME_LIMIT, stall_seconds
from apps.storage.services.volumes import VolumeError, check_space, refresh_quietly
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import streams
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume

from .volumes import operation_pool


def _refuse_what_was_stored_linked(conn, pool, name):
    """The header check again, on the bytes the volume holds now (read back through libvirt):
    whatever the pieces were and whatever the check on the way in let through, a volume that
    names another file does not stay in the pool."""
    try:
        images.refuse_linked(streams.head(conn, str(pool.uuid), name, HEAD_BYTES))
    except OperationError as exc:
        volume_virt.delete_quietly(conn, str(pool.uuid), name)
        refresh_quietly(conn, pool)
        raise OperationError(f"{exc} The uploaded volume {name} was deleted.") from None


def _refuse_what_libvirt_finds_linked(conn, pool, name):
    """libvirt's own reading of what arrived (it probes the files of a dir pool on refresh): a
    reference the header check did not know must not stay in the pool either."""
    uuid = str(pool.uuid)
    pool_virt.act(conn, uuid, "refresh")
    info = volume_virt.volume_info(conn, uuid, name)
    if info is not None and info.backing_path:
        volume_virt.delete_quietly(conn, uuid, name)
        refresh_quietly(conn, pool)
        raise OperationError(f"The uploaded image names {info.backing_path} as its backing file; it was deleted.")


def _incoming(op, pipe, size):
    """The upload's pieces as the web endpoint pushes them, with every check that ends it."""
    received, step, idle_since, head = 0, -1, time.monotonic(), bytearray()
    while received < size:
        operation_check_cancel(op)
        item = pipe.pop(timeout=1)
        if item is None:
            if time.monotonic() - idle_since > stall_seconds():
                raise OperationError(
                    f"No data for {stall_seconds()} s: the upload stopped at {received} of {size} bytes."
                )
            continue
        tag, payload = item
        if tag == ABORT:
            raise OperationError(payload.decode(errors="replace"))
        if tag != DATA:
            raise OperationError(f"The data ended at {received} of the declared {size} bytes.")
        if len(head) < HEAD_BYTES:
            head += payload[: HEAD_BYTES - len(head)]
            if len(head) >= min(HEAD_BYTES, size):
                refuse_linked(bytes(head))
        received += len(payload)
        if received > size:
            raise OperationError(f"The data is larger than the declared {size} bytes.")
        idle_since = time.monotonic()
        yield payload
        if received * 100 // size > step:
            step = received * 100 // size
            operation_progress(op, step, f"{human(received)} of {human(size)} written")


@runner(
    "volume.upload", permission="storage.manage", target=operation_pool, soft_time_limit=TIME_LIMIT, cancellable=True
)
def upload(op, pool):
    p, uuid, pipe = op.params, str(pool.uuid), Pipe(op.pk)
    created = False
    with connection.connected(pool.host.uri) as conn:
        try:
            if not p["existing"]:
                live = pool_virt.pool_info(conn, uuid)
                try:
                    check_space(
                        capacity=p["size"], pool_capacity=live.capacity, available=live.available, preallocate=True
                    )
                except VolumeError as exc:
                    raise OperationError(str(exc)) from None
                volume_virt.create(conn, uuid, Volume(name=p["name"], capacity=p["size"], format="raw").to_xml())
                created = True
            streams.upload(conn, uuid, p["name"], p["size"], _incoming(op, pipe, p["size"]))
        except BaseException:
            if created:
                volume_virt.delete_quietly(conn, uuid, p["name"])
            refresh_quietly(conn, pool)
            raise
        finally:
            pipe.close()
        _refuse_what_was_stored_linked(conn, pool, p["name"])
        _refuse_what_libvirt_finds_linked(conn, pool, p["name"])
        pool_refresh_inventory(conn, pool.host, uuid)
    volume = StorageVolume.objects.filter(pool=pool, name=p["name"]).first()
    if volume is not None:
        op.target_id = str(volume.pk)
        op.save(update_fields=["target_id"])
    return f"uploaded {human(p['size'])} into {p['name']}"


@runner(
    "volume.download", permission="storage.manage", target=operation_pool, soft_time_limit=TIME_LIMIT, cancellable=True
)
def download(op, pool):
    name, uuid, pipe = op.params["name"], str(pool.uuid), Pipe(op.pk)
    announced = False

    def check():
        operation_check_cancel(op)
        if pipe.is_gone():
            raise OperationError("The browser stopped the download.")

    with connection.connected(pool.host.uri) as conn:
        try:
            length = streams.download_length(conn, uuid, name)
            pipe.announce(length=length, filename=name)
            announced = True
            sent, step, buffer = 0, -1, bytearray()
            for data in streams.download(conn, uuid, name, length, chunk_size=CHUNK_SIZE):
                buffer += data
                sent += len(data)
                if len(buffer) >= CHUNK_SIZE or sent >= length:
                    check()
                    pipe.put(bytes(buffer), check=check, stall=stall_seconds())
                    buffer.clear()
                if length and sent * 100 // length > step:
                    step = sent * 100 // length
                    operation_progress(op, step, f"{human(sent)} of {human(length)} sent")
            if buffer:
                pipe.put(bytes(buffer), check=check, stall=stall_seconds())
            if sent != length:
                raise OperationError(f"libvirt sent {sent} bytes, not the {length} it announced.")
            pipe.end()
        except TimeoutError:
            pipe.abort("stalled")
            raise OperationError(
                f"The browser took nothing for {stall_seconds()} s; the download was stopped."
            ) from None
        except BaseException as exc:
            if announced:
                pipe.abort(str(exc) or exc.__class__.__name__)
            else:
                pipe.announce(error=str(exc) or "The download could not start.")
            raise
    return f"sent {human(length)} of {name}"
