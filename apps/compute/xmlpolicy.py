"""What a user may put in a domain's XML by hand (the XML tab, "define from XML").

libvirt accepts far more than a VM-level right should grant: a disk whose source is any file or
device of the host, arguments passed straight to QEMU, host devices, host directories shared into
the guest, another emulator binary. So:

- every host path the XML names (disk and filesystem sources, kernel, initrd, loader, NVRAM,
  serial logs, interface scripts …) that was not already in the definition must be a volume of a
  pool the user may use on that host;
- `<qemu:commandline>` and anything else in libvirt's QEMU namespace is refused;
- the emulator may not change (a new domain names none: libvirt picks the host's);
- host devices (`<hostdev>`), shared host directories (`<filesystem>`) and security labels
  (`<seclabel>`) may be added or changed only by who manages the host (host.manage).

Checked on the parsed XML before anything is queued, and again by the worker.
"""

from lxml import etree

from apps.authz.rights import may
from apps.storage.models import StorageVolume
from apps.storage.selectors import pools_visible

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
PATH_ATTRS = ("file", "dev", "dir", "path", "socket", "template")
PATH_TEXTS = ("os/kernel", "os/initrd", "os/dtb", "devices/emulator")
# Where each lives, and how a message names it.
HOST_ONLY = {"devices/hostdev": "<hostdev>", "devices/filesystem": "<filesystem>", "seclabel": "<seclabel>"}
# UEFI: the firmware (and its variable templates) are public read-only files of the host's
# firmware packages; each VM's variable store lives in libvirt's NVRAM directory.
FIRMWARE_DIRS = ("/usr/share/OVMF/", "/usr/share/qemu/", "/usr/share/AAVMF/", "/usr/share/edk2/", "/usr/share/seabios/")
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram/"


def _under(path, dirs):
    return ".." not in path.split("/") and path.startswith(dirs)


def host_paths(root):
    """Every absolute host path the domain names, except firmware and NVRAM files where they
    belong (guest-side names like <target dev='vda'> are not paths, and device names such as a
    macvtap's 'eth0' do not start with '/')."""
    if root is None:
        return set()
    paths = set()
    firmware = {root.find("os/loader"), root.find("os/nvram")}
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag == "target":
            continue
        for attr in PATH_ATTRS:
            value = (el.get(attr) or "").strip()
            if value.startswith("/") and not (el in firmware and _under(value, FIRMWARE_DIRS)):
                paths.add(value)
    for where in PATH_TEXTS:
        value = (root.findtext(where) or "").strip()
        if value.startswith("/"):
            paths.add(value)
    for where, dirs in (("os/loader", FIRMWARE_DIRS), ("os/nvram", (NVRAM_DIR,))):
        value = (root.findtext(where) or "").strip()
        if value.startswith("/") and not _under(value, dirs):
            paths.add(value)
    return paths


def _canonical(elements):
    return sorted(etree.tostring(el, method="c14n") for el in elements)


def problems(root, *, user, host, before=None):
    """What is not allowed in `root` (a new definition for `host`), compared with `before` (the
    current definition, None for a new domain); an empty list when all is well."""
    found = []
    if any(isinstance(el.tag, str) and el.tag.startswith(f"{{{QEMU_NS}}}") for el in root.iter()):
        found.append("QEMU pass-through (the qemu: namespace, e.g. <qemu:commandline>) is not allowed here.")
    old_emulator = (before.findtext("devices/emulator") or "").strip() if before is not None else ""
    if (root.findtext("devices/emulator") or "").strip() not in ("", old_emulator):
        found.append("The <emulator> cannot be changed here: libvirt picks the host's.")
    if not may(user, "host.manage", host):
        for where, label in HOST_ONLY.items():
            now = _canonical(root.findall(where))
            then = _canonical(before.findall(where)) if before is not None else []
            if now != then:
                found.append(f"Adding or changing {label} needs the right to manage host {host.name}.")
    new_paths = host_paths(root) - host_paths(before)
    if new_paths:
        allowed = set(
            StorageVolume.objects.filter(pool__in=pools_visible(user, host_id=host.pk), path__in=new_paths).values_list(
                "path", flat=True
            )
        )
        for path in sorted(new_paths - allowed):
            found.append(f"{path} is not a volume of a pool you may use on {host.name}.")
    return found
