"""What a user may put in a domain's XML by hand (the XML tab, "define from XML").

libvirt accepts far more than a VM-level right should grant: a disk on any file, device, pool
volume or network server the host reaches, the host's own PCI and USB devices, its network
uplink, sockets and TCP connections opened by QEMU, host files as ACPI tables or persistent
memory, arguments passed straight to QEMU. Looking for forbidden strings misses some of them,
so this is an allow-list over the typed XML (apps/compute/virt/xml/): every element and every
source type a VM-level user may use is listed with the right it needs —

- a disk, CD-ROM or direct-boot kernel on a pool volume kvmweb knows on the host: a right to use
  that pool (storage.use or storage.manage; storage.view for a read-only ISO of the ISO library),
  whether named by path or by pool and volume (`type='volume'`); an empty drive needs nothing;
- a NIC on a libvirt network kvmweb knows on the host: network.use (or network.manage) on that
  network or its host; on a host bridge, Open vSwitch or
  macvtap: network.manage (or a bridge the administrator opened, Host.vm_bridges), as the
  NICs tab has it; `type='user'` needs nothing;
- VNC/SPICE on an address, emulated devices (video, sound, mouse, keyboard, tablet, controllers,
  balloon, watchdog, panic, vsock, an RNG on /dev/urandom, a software TPM), pty serial ports and
  consoles, SPICE channels and the guest agent's channel where libvirt places it: nothing more;
- anything else — host devices, network/NVMe/directory disks, host NICs, host character devices
  (tcp, udp, unix, file, pipe, dev), shared directories and memory, evdev and passthrough input,
  memory devices backed by host files, ACPI tables, firmware from elsewhere, resource tuning,
  security labels, and any element or host path this module does not know — needs host.manage,
  and is named in the message;
- some things no right makes safe, and are refused for everyone: libvirt's per-driver
  namespaces (`<qemu:commandline>` …), an emulator the host does not list, and an NVRAM file
  other than the one libvirt names after the VM.

What the current definition (`before`) already holds, unchanged, stays allowed: the policy judges
what the user adds or changes, so editing one field of a VM an administrator gave a host device
keeps working. Checked on the parsed XML before anything is queued, and again by the worker.
Each refusal is recorded as a "denied" audit event (`refused`), as authorize() records its own.
"""

from apps.authz.rights import deny
from apps.compute.virt.xml import Domain

from .devices import judge_devices
from .domain import driver_passthrough, host_emulators, judge_os, judge_top, nvram_path
from .judge import Judge, canonical

__all__ = ["nvram_path", "problems", "refused"]


def _children(el):
    return [c for c in el if isinstance(c.tag, str)] if el is not None else []


def problems(root, *, user, host, before=None):
    """What is not allowed in `root` (a new <domain> definition for `host`, an lxml element)
    compared with `before` (the current definition, None for a new domain); an empty list when
    all is well, else one message per refused element, naming it."""
    return _judge(root, user=user, host=host, before=before).found


def refused(root, *, user, host, before=None, target, attempt):
    """problems(), with each refusal recorded as a "denied" audit event through authz's denial
    hooks (the path authorize() takes): on `target` (the VM, or the new one being defined), for the
    `attempt` (the operation kind asked for), naming the element and the right it needed."""
    judge = _judge(root, user=user, host=host, before=before)
    for message in judge.found:
        deny(user, judge.needed[message], target, attempt=attempt, reason=message)
    return judge.found


def _judge(root, *, user, host, before):
    domain = Domain.wrap(root)
    old = Domain.wrap(before) if before is not None else None
    judge = Judge(user, host, (domain.name or "").strip())

    # Pass-through the administrator wrote may stay as it is, or go; not be added to or changed.
    allowed = driver_passthrough(before) if before is not None else []
    for key in driver_passthrough(root):
        if key in allowed:
            allowed.remove(key)
        else:
            judge.refuse("QEMU pass-through (the qemu: namespace, e.g. <qemu:commandline>) is not allowed here.")

    kept = [canonical(el) for el in _children(before) if el.tag not in ("os", "devices")]
    for el in _children(root):
        if el.tag == "os":
            judge_os(judge, el, _children(before.find("os")) if before is not None else [])
        elif el.tag == "devices":
            emulators = host_emulators(host) | {(old.emulator or "").strip() if old is not None else "", ""}
            before_devices = _children(before.find("devices")) if before is not None else []
            judge_devices(judge, _children(el), before_devices, emulators)
        else:
            key = canonical(el)
            if key in kept:
                kept.remove(key)
            else:
                judge_top(judge, el)
    return judge
