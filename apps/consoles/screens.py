"""Thumbnails of running VMs' screens, for the VM page and the VM list's cards.

A worker takes the screenshot (libvirt's virDomainScreenshot, PPM or PNG from QEMU) on a slow tick
and when someone asks, shrinks it to a PNG of at most 320×240 and keeps it in Redis for a few
minutes; pages only ever read Redis, so a slow or unreachable host never holds a page up. Open
pages hear of a new picture through the live channel (`kv:screen-<vm>`) and re-read the partial.

A screen shows what is on the console: only people who may open the VM's graphical console (or
watch it, see access.console_mode) see its thumbnail.

Redis holds, per VM, a hash under `kvmweb:screen:<vm>`: the PNG, its size, a digest of the raw
screenshot (an unchanged screen is neither converted again nor announced), when the picture was
taken and when it was last checked — or libvirt's reason there is no picture. Each check renews
its expiry, so the thumbnail of a VM nobody refreshes any more is gone after KEEP.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO

import redis
from celery import current_app
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from apps.authz.rights import may
from apps.compute.models import VirtualMachine
from apps.compute.virt import consoles as virt_consoles
from apps.core import realtime
from apps.hosts.reads import read_on_host

from .access import console_mode
from .models import ConsoleKind

log = logging.getLogger(__name__)

# States in which QEMU runs and has a screen to show.
SCREEN_STATES = ("running", "blocked", "paused", "shutdown")
SIZE = (320, 240)
KEEP = 600  # seconds a thumbnail (and a "viewed" mark) lives without being renewed
MAX_PNG = 128 * 1024  # a noisy screen is stored with a 256-colour palette instead
MAX_SOURCE_PIXELS = 40_000_000  # a guest's absurd resolution is not decoded on the worker
PER_TICK = 64  # screenshots per host per tick; recently viewed VMs and the oldest pictures first
TICK = 30  # seconds between ticks (the beat entry in settings)
ASK_PAUSE = 5  # a VM's on-demand refresh is queued at most once in this many seconds

TICK_TASK = "consoles.screens_tick"
HOST_TASK = "consoles.screens_host"
VM_TASK = "consoles.screen_vm"

PREFIX = "kvmweb:screen:"
VIEWED = "kvmweb:screen-viewed:"  # per host: sorted set of VM ids by when a thumbnail was viewed
ASKED = "kvmweb:screen-asked:"


@lru_cache
def _redis(url):
    return redis.Redis.from_url(url, socket_timeout=5)


def _r():
    return _redis(settings.REDIS_URL)


@dataclass(frozen=True)
class Screen:
    """What Redis holds about one VM's screen (the PNG itself is read only by the image view)."""

    taken: float  # when this picture was first seen (epoch seconds)
    checked: float  # when the screen was last looked at and found the same
    digest: str = ""
    width: int = 0
    height: int = 0
    error: str = ""  # libvirt's reason there is no picture

    @property
    def taken_at(self):
        return datetime.fromtimestamp(self.taken, tz=UTC)

    @property
    def checked_at(self):
        return datetime.fromtimestamp(self.checked, tz=UTC)

    @property
    def version(self):
        """Changes with the picture: the image URL's query and its ETag."""
        return self.digest[:16]


FIELDS = ("taken", "checked", "digest", "width", "height", "error")


def _screen(values):
    if not values or values[0] is None:
        return None
    taken, checked, digest, width, height, error = (v.decode() if v is not None else "" for v in values)
    return Screen(float(taken), float(checked or taken), digest, int(width or 0), int(height or 0), error)


def shows_screen(vm):
    return vm.present and vm.state in SCREEN_STATES


# -- reading, for pages ----------------------------------------------------------------------------


def screen_of(vm):
    """The VM's cached screen, or None (also for a VM the inventory says is not running)."""
    if not shows_screen(vm):
        return None
    return _screen(_r().hmget(PREFIX + str(vm.pk), FIELDS))


def png_of(vm):
    """(Screen, PNG bytes) or None."""
    if not shows_screen(vm):
        return None
    values = _r().hmget(PREFIX + str(vm.pk), (*FIELDS, "png"))
    screen = _screen(values[:-1])
    if screen is None or not values[-1]:
        return None
    return screen, values[-1]


def present(user, vm):
    """What the thumbnail partial (consoles/_screen.html) shows this user."""
    allowed = console_mode(user, vm, ConsoleKind.VNC) is not None
    return {
        "allowed": allowed,
        "live": shows_screen(vm),
        "screen": screen_of(vm) if allowed else None,
    }


def mark_viewed(vm):
    """Someone looked at this VM's thumbnail: the tick takes it before those nobody watches."""
    key = VIEWED + str(vm.host_id)
    _r().pipeline().zadd(key, {str(vm.pk): time.time()}).expire(key, KEEP).execute()


def ask_refresh(vm):
    """Queue a screenshot of this VM now, on its host's worker; False when there is nothing to
    take or one was asked for moments ago (a double click, two people)."""
    if not shows_screen(vm) or not _r().set(ASKED + str(vm.pk), 1, nx=True, ex=ASK_PAUSE):
        return False
    # By name: the worker registers the task (apps/consoles/tasks.py).
    current_app.send_task(VM_TASK, args=[vm.pk], queue=vm.host.queue, expires=60)
    return True


# -- taking, on the worker -------------------------------------------------------------------------


def thumbnail(data):
    """(PNG bytes, width, height) of the screenshot shrunk to fit SIZE, its aspect kept."""
    with Image.open(BytesIO(data)) as img:
        if img.width * img.height > MAX_SOURCE_PIXELS:
            raise ValueError(f"a screen of {img.width}×{img.height} is too large to shrink")
        img.thumbnail(SIZE, Image.Resampling.LANCZOS)
        small = img.convert("RGB")
    png = _png(small)
    if len(png) > MAX_PNG:
        png = _png(small.quantize(256))
    return png, small.width, small.height


def _png(img):
    out = BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def refresh_vm(vm, *, force=False, publish=True):
    """Take one screenshot and store what changed; True if it changed (and, with `publish`, open
    pages were told). `force` (someone pressed Refresh) counts the same screen as a change, so
    its time moves on."""
    if not shows_screen(vm):
        return forget([vm])
    (_mime, data), error = read_on_host(vm.host, lambda conn: virt_consoles.screenshot(conn, str(vm.uuid)), ("", b""))
    if not data and not error:
        error = "libvirt sent no picture."
    key, now = PREFIX + str(vm.pk), time.time()
    digest = hashlib.blake2b(data, digest_size=16).hexdigest() if data else "error:" + error
    old = _screen(_r().hmget(key, FIELDS))
    if old is not None and old.digest == digest:
        # The same screen: nothing to convert; only a Refresh someone pressed moves its time on.
        again = {"checked": now, "taken": now} if force else {"checked": now}
        _r().pipeline().hset(key, mapping=again).expire(key, KEEP).execute()
        if force and publish:
            publish_changed(vm.host_id, [vm.pk])
        return force
    fields = {"taken": now, "checked": now, "digest": digest, "width": 0, "height": 0, "error": "", "png": b""}
    if data:
        try:
            fields["png"], fields["width"], fields["height"] = thumbnail(data)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            fields["error"] = f"The screen could not be read: {exc}"
    else:
        fields["error"] = error
    _r().pipeline().hset(key, mapping=fields).expire(key, KEEP).execute()
    if publish:
        publish_changed(vm.host_id, [vm.pk])
    return True


def refresh_host(host, *, limit=PER_TICK):
    """One tick on one host: the screens of its running VMs (at most `limit`: those viewed in the
    last KEEP seconds first, then the ones whose picture is oldest), and the thumbnails of VMs no
    longer running dropped. Open pages hear of the changed ones in one message. Returns their ids."""
    vms = list(VirtualMachine.objects.filter(host=host, present=True).select_related("host"))
    running = [vm for vm in vms if shows_screen(vm)]
    forget([vm for vm in vms if not shows_screen(vm)])
    r = _r()
    viewed = {int(pk) for pk in r.zrangebyscore(VIEWED + str(host.pk), time.time() - KEEP, "+inf")}
    with r.pipeline() as pipe:
        for vm in running:
            pipe.hget(PREFIX + str(vm.pk), "checked")
        checked = [float(v) if v else 0.0 for v in pipe.execute()]
    order = sorted(zip(running, checked, strict=True), key=lambda pair: (pair[0].pk not in viewed, pair[1]))
    changed = [vm.pk for vm, _ in order[:limit] if refresh_vm(vm, publish=False)]
    if changed:
        publish_changed(host.pk, changed)
    return changed


def forget(vms):
    """Drop the thumbnails of these VMs (stopped, gone); tells open pages about those it had."""
    if not vms:
        return False
    with _r().pipeline() as pipe:
        for vm in vms:
            pipe.delete(PREFIX + str(vm.pk))
        dropped = [vm for vm, n in zip(vms, pipe.execute(), strict=True) if n]
    by_host = {}
    for vm in dropped:
        by_host.setdefault(vm.host_id, []).append(vm.pk)
    for host_id, ids in by_host.items():
        publish_changed(host_id, ids)
    return bool(dropped)


# -- telling open pages ----------------------------------------------------------------------------


def publish_changed(host_id, vm_ids):
    realtime.publish_on_commit(realtime.host_group(host_id), "screens", vms=list(vm_ids))


@realtime.register_renderer("screens")
def render_screens_changed(user, event):
    """A signal per VM whose screen this user may see: its thumbnail re-reads itself."""
    vms = VirtualMachine.objects.select_related("host").filter(pk__in=event.get("vms") or [])
    return "".join(
        realtime.signal(f"screen-{vm.pk}")
        for vm in vms
        if may(user, "vm.view", vm) and console_mode(user, vm, ConsoleKind.VNC) is not None
    )
