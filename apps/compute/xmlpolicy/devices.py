"""The devices a VM-level user may add or change under <devices>, each with the right it needs.

Every device kind is listed in DEVICES; a kind the list does not name is refused with its name
unless the user manages the host. A rule returns the host paths it vouched for (the rest of the
element is swept for host paths, which need host.manage), or DONE when it judged every path of
the element itself or already refused it.
"""

import copy

from apps.compute.virt.xml import Channel, Console, Disk, Graphics, Interface, Serial
from apps.compute.virt.xml.more_devices import Input, MemoryDevice, Parallel, Redirdev, Rng, Tpm

from .judge import canonical, host_paths, label, passthrough, sweep

DONE = None
FREE = frozenset()  # an emulated device with nothing of the host in it: accepted, its paths swept

DISK_VOLUME_TYPES = ("file", "block", "volume")  # other sources (network, nvme, dir, vhostuser): host.manage
GRAPHICS_TYPES = ("vnc", "spice")  # sdl/egl-headless/dbus/rdp/desktop use the host's display or GPU
INPUT_TYPES = ("mouse", "keyboard", "tablet")  # passthrough and evdev hand over a host /dev/input device
AUDIO_TYPES = ("none", "spice")  # libvirt adds one of these itself; the others reach the host's sound
CHAR_TYPES = ("pty",)  # tcp/udp/unix/file/pipe/dev/… make QEMU open host files or connections
CHANNEL_TYPES = ("pty", "spicevmc", "spiceport", "qemu-vdagent")  # plus unix with libvirt's own path
RNG_RANDOM = ("", "/dev/urandom")  # no text: libvirt's default, /dev/urandom
CHARDEVS = {"serial": Serial, "console": Console, "parallel": Parallel, "channel": Channel}
MEMORY_MODELS = ("dimm", "virtio-mem")  # nvdimm, virtio-pmem, sgx-epc are host files or host memory

# Children of a device that only the guest sees: a device that differs from one in the current
# definition only in these is the same device as far as the host goes.
GUEST_SIDE = {
    "disk": (
        "address", "alias", "boot", "target", "serial", "wwn", "vendor", "product", "iotune", "geometry",
        "blockio", "transient", "shareable", "readonly",
    ),
    "interface": ("address", "alias", "boot", "mac", "model", "driver", "link", "mtu", "coalesce", "acpi", "guest"),
}  # fmt: skip
ANY_GUEST_SIDE = ("address", "alias", "boot")


def reach(el):
    """What of a device the host sees; of a disk's <driver>, only the format (how the host file is
    read) counts: cache and I/O modes are the guest's business."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "disk":
        el = copy.deepcopy(el)
        for driver in el.findall("driver"):
            for attr in [a for a in driver.attrib if a not in ("name", "type")]:
                del driver.attrib[attr]
            for child in list(driver):
                driver.remove(child)
    return canonical(el, drop=GUEST_SIDE.get(tag, ANY_GUEST_SIDE))


def writable(el):
    disk = Disk.wrap(el)
    return not disk.readonly and disk.device != "cdrom"


# -- the rules ---------------------------------------------------------------------------------


def disk(judge, el):
    d = Disk.wrap(el)
    kind = d.type or "file"
    lab = label(el)
    if kind not in DISK_VOLUME_TYPES:
        servers = " ".join(h.name + (f":{h.port}" if h.port is not None else "") for h in d.hosts if h.name)
        where = " ".join(x for x in (d.protocol, servers or d.source_name) if x)
        judge.need("host.manage", lab + (f" ({where})" if where else ""))
        return DONE
    if d.device == "lun":  # SCSI commands straight to the host device
        judge.need("host.manage", "<disk device='lun'>")
        return DONE
    if judge.manages_host:
        return DONE
    readonly = not writable(el)
    if kind == "volume":
        if d.pool or d.volume:  # neither: an empty drive, for libvirt to refuse or accept
            judge.volume(lab, pool=d.pool, name=d.volume, readonly=readonly, fmt=d.format)
    elif d.path:
        judge.volume(lab, path=d.path, readonly=readonly, fmt=d.format)
    # Anything else the disk names (a backing chain, an external data file, a reservations
    # socket, …) must be a usable volume too.
    for path in _paths_beside_source(el, d.path):
        judge.volume(lab, path=path, readonly=True)
    return DONE


def _paths_beside_source(el, source):
    paths = host_paths(el)
    if source in paths:
        paths.remove(source)
    return paths


def interface(judge, el):
    i = Interface.wrap(el)
    lab = label(el)
    if i.type == "network":
        judge.network(lab, i.network)  # network.use on it, as the NICs tab has it
    elif i.type == "user":
        if el.find("portForward") is not None:  # the host listens on its ports for the guest
            judge.need("host.manage", f"{lab} with <portForward>")
    elif i.kind == "bridge" and i.bridge in (judge.host.vm_bridges or []):
        pass  # an administrator opened this bridge to VM users (Host.vm_bridges)
    elif i.type in ("bridge", "direct"):
        # The same rule as the NICs tab (services/nics.py check_source_right): a host bridge,
        # Open vSwitch or macvtap in any mode (passthrough takes the uplink) is the host's network.
        judge.need("network.manage", lab)
    else:  # hostdev, vhostuser, ethernet, server, client, mcast, udp, vdpa, null, vds, …
        judge.need("host.manage", lab)
        return DONE
    if el.find("vlan") is not None:  # a VLAN tag chooses which network the NIC is on
        judge.need("network.manage", f"{lab} with <vlan>")
    target = el.find("target")
    if target is not None and target.get("managed") == "no":  # a host tap device made by someone else
        judge.need("host.manage", f"{lab} with <target managed='no'>")
    return FREE


def graphics(judge, el):
    g = Graphics.wrap(el)
    if g.type not in GRAPHICS_TYPES:
        judge.need("host.manage", label(el))
        return DONE
    if any(listen.get("type") == "network" for listen in el.findall("listen")):
        judge.need("network.view", f"{label(el)} listening on a network")
    return FREE  # a socket= or listen socket path is swept: libvirt's default needs none


def chardev(judge, el):
    """Serial ports, consoles, parallel ports: a pty only. Channels also reach SPICE, and the
    guest agent's unix socket where libvirt places it (no path given)."""
    c = CHARDEVS[el.tag].wrap(el)
    allowed = CHANNEL_TYPES if el.tag == "channel" else CHAR_TYPES
    if c.type in allowed or (el.tag == "channel" and c.type == "unix" and not c.source_path):
        return FREE
    judge.need("host.manage", label(el) + _where(c))
    return DONE


def _where(chardev):
    """What a character device's host side opens: a path, or host:port."""
    where = chardev.source_path or ":".join(x for x in (chardev.source_host, chardev.source_service) if x)
    return f" ({where})" if where else ""


def input_device(judge, el):
    if Input.wrap(el).type not in INPUT_TYPES:
        judge.need("host.manage", label(el))
        return DONE
    return FREE


def rng(judge, el):
    r = Rng.wrap(el)
    if r.backend_model == "builtin":
        return FREE
    if r.backend_model == "random" and (r.backend or "").strip() in RNG_RANDOM:
        return {"/dev/urandom"}
    judge.need("host.manage", f"<rng> with <backend model='{r.backend_model}'>" + _text(r.backend))
    return DONE


def _text(value):
    return f" ({value.strip()})" if value and value.strip() else ""


def tpm(judge, el):
    if Tpm.wrap(el).backend_type == "emulator":
        return FREE
    judge.need("host.manage", f"<tpm> with <backend type='{Tpm.wrap(el).backend_type}'>")
    return DONE


def audio(judge, el):
    if el.get("type") in AUDIO_TYPES:
        return FREE
    judge.need("host.manage", label(el))
    return DONE


def memory(judge, el):
    m = MemoryDevice.wrap(el)
    if m.model in MEMORY_MODELS and el.find("source") is None:
        return FREE
    judge.need("host.manage", label(el) + _text(m.source_path))
    return DONE


def redirdev(judge, el):
    """USB redirection from the SPICE client's machine is the client's own device (virt-manager
    adds it to every SPICE guest); any other type has the hypervisor open a connection or a file."""
    if el.get("type") == "spicevmc":
        return FREE
    judge.need("host.manage", label(el) + _where(Redirdev.wrap(el)))
    return DONE


def host_only(judge, el):
    judge.need("host.manage", label(el))
    return DONE


def emulator(judge, el, allowed):
    """Not something a right makes safe: another binary runs as QEMU."""
    if (el.text or "").strip() in allowed:
        return DONE
    judge.refuse("The <emulator> cannot be changed here: libvirt picks the host's.")
    return DONE


DEVICES = {
    "disk": disk,
    "interface": interface,
    "graphics": graphics,
    "serial": chardev,
    "console": chardev,
    "parallel": chardev,
    "channel": chardev,
    "input": input_device,
    "rng": rng,
    "tpm": tpm,
    "audio": audio,
    "memory": memory,
    "redirdev": redirdev,
    # Emulated, with nothing of the host in them (their paths, e.g. a render node, are swept).
    **dict.fromkeys(
        ("controller", "video", "sound", "memballoon", "watchdog", "panic", "vsock", "hub", "iommu", "redirfilter"),
        lambda judge, el: FREE,
    ),
    # The host's own devices, files, memory, sockets or smartcard reader.
    **dict.fromkeys(("hostdev", "filesystem", "smartcard", "shmem", "lease", "nvram", "crypto", "pstore"), host_only),
}


def judge_devices(judge, devices, before_devices, emulators):
    """Each device under <devices> that is not in the current definition as it is."""
    unchanged = {}
    for el in before_devices:
        if isinstance(el.tag, str):
            key = reach(el)
            unchanged.setdefault(key, []).append(writable(el) if el.tag == "disk" else False)
    for el in devices:
        if not isinstance(el.tag, str) or passthrough(el):
            continue  # a comment; or driver pass-through, refused on its own
        key = reach(el)
        kept = unchanged.get(key)
        if kept is not None:
            # A disk kept as it was, unless it was read-only and is now writable.
            now_writable = writable(el) if el.tag == "disk" else False
            match = next((i for i, was in enumerate(kept) if was or not now_writable), None)
            if match is not None:
                kept.pop(match)
                continue
        if el.tag == "emulator":
            emulator(judge, el, emulators)
            continue
        rule = DEVICES.get(el.tag)
        if rule is None:
            judge.need("host.manage", f"{label(el)}, a device kvmweb does not know,")
            continue
        accepted = rule(judge, el)
        if accepted is not DONE:
            sweep(judge, el, accepted)
