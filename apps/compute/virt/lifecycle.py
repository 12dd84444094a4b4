"""Clone and delete at the libvirt level: reading what a domain's disks, snapshots and NVRAM are,
rewriting its inactive XML into a clone's (what virt-clone changes), and undefining with the flags
the user chose.

The XML rewriting is a pure function over lxml elements, so it is tested without a hypervisor.
"""

import random
from dataclasses import dataclass

import libvirt
from lxml import etree

from apps.compute.virt import domains
from apps.compute.virt.domains import lookup
from apps.core.errors import VirtError, from_libvirt

# The prefix libvirt and QEMU use for generated MACs (locally administered is the other choice;
# virt-clone uses this one too).
MAC_PREFIX = "52:54:00"


@dataclass(frozen=True)
class DiskSpec:
    """One <disk> of the inactive definition."""

    target: str
    device: str  # disk, cdrom, floppy, lun
    type: str  # file, block, volume, network, …
    path: str  # file or dev; "" for an empty drive or a non-path source
    format: str
    readonly: bool
    shareable: bool
    pool: str = ""  # type="volume" disks name their pool and volume instead of a path
    volume: str = ""

    @property
    def writable(self):
        """What virt-clone copies and what deleting "its storage" may remove: a disk the guest
        writes and no other guest shares. Read-only disks and CD-ROMs (ISOs) are shared."""
        has_source = bool(self.path or self.volume)
        return self.device in ("disk", "lun") and not self.readonly and not self.shareable and has_source


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    external_files: tuple[str, ...]  # overlay files an external snapshot made (never deleted here)


def inactive_xml(conn, uuid) -> str:
    """The persistent definition (`virsh dumpxml --inactive`): what a clone is made from."""
    try:
        return lookup(conn, uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def parse_disks(xml) -> list[DiskSpec]:
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    disks = []
    for el in root.findall("devices/disk"):
        src = el.find("source")
        target = el.find("target")
        driver = el.find("driver")
        path = ""
        if src is not None:
            path = src.get("file") or src.get("dev") or ""
        disks.append(
            DiskSpec(
                target=target.get("dev", "") if target is not None else "",
                device=el.get("device", "disk"),
                type=el.get("type", "file"),
                path=path,
                format=driver.get("type", "") if driver is not None else "",
                readonly=el.find("readonly") is not None,
                shareable=el.find("shareable") is not None,
                pool=src.get("pool", "") if src is not None else "",
                volume=src.get("volume", "") if src is not None else "",
            )
        )
    return disks


def nvram_path(xml) -> str:
    """The UEFI variable store's file (<os><nvram>), or "" for BIOS guests."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return (root.findtext("os/nvram") or "").strip()


def used_macs(conn) -> set[str]:
    """Every MAC any domain on the host has (running or defined): a clone's must be new."""
    try:
        doms = conn.listAllDomains(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    macs = set()
    for dom in doms:
        try:
            root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
        except libvirt.libvirtError:
            continue  # undefined meanwhile
        macs |= {m.get("address", "").lower() for m in root.findall("devices/interface/mac")}
    return macs


def new_mac(taken, rng=random):
    """A random MAC under libvirt's prefix that is not in `taken` (which it joins)."""
    while True:
        mac = MAC_PREFIX + "".join(f":{rng.randrange(256):02x}" for _ in range(3))
        if mac not in taken:
            taken.add(mac)
            return mac


def clone_xml(xml, *, name, disks, macs, nvram=None) -> str:
    """The clone's definition from the source's inactive XML, changed where virt-clone changes it.

    - name replaced, <uuid> dropped (libvirt makes a new one), and the SMBIOS system UUID too;
    - disks: `disks` maps a target (vda) to the new file path for every copied disk; the others
      (read-only, shared, CD-ROMs) keep their source;
    - NICs: each gets the next MAC from `macs`, and loses a fixed host-side device name
      (<target dev>) that would clash with the source's;
    - graphics with a fixed port get autoport, for the same reason;
    - nvram: a path for the copied variable store, or "" to let libvirt make a fresh one from
      the firmware's template at first start; None leaves BIOS guests alone.
    """
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    root.find("name").text = name
    for tag in ("uuid",):
        for el in root.findall(tag):
            root.remove(el)
    for entry in root.findall("sysinfo/system/entry[@name='uuid']"):
        entry.getparent().remove(entry)
    for title in root.findall("title"):
        root.remove(title)  # the title names the source; a clone is another machine
    for el in root.findall("devices/disk"):
        target = el.find("target")
        dev = target.get("dev") if target is not None else None
        if dev not in disks:
            continue
        src = el.find("source")
        for attr in ("file", "dev", "pool", "volume"):
            src.attrib.pop(attr, None)
        block = disks[dev].startswith("/dev/")  # a copy on an LVM, disk or iSCSI pool
        el.set("type", "block" if block else "file")
        src.set("dev" if block else "file", disks[dev])
        for backing in el.findall("backingStore"):
            el.remove(backing)  # the copy is flattened: no backing chain
    mac_iter = iter(macs)
    for iface in root.findall("devices/interface"):
        mac_el = iface.find("mac")
        if mac_el is None:
            mac_el = etree.SubElement(iface, "mac")
            iface.insert(0, mac_el)
        try:
            mac_el.set("address", next(mac_iter))
        except StopIteration:
            raise VirtError("not enough new MAC addresses for the clone's NICs") from None
        for target in iface.findall("target"):
            iface.remove(target)
    for graphics in root.findall("devices/graphics"):
        if graphics.get("autoport") == "no" or graphics.get("port") not in (None, "-1"):
            graphics.set("autoport", "yes")
            graphics.attrib.pop("port", None)
            graphics.attrib.pop("tlsPort", None)
    nv = root.find("os/nvram")
    if nv is not None and nvram is not None:
        nv.text = nvram or None
        if not nvram:
            # A fresh store from the template: libvirt picks <nvram_dir>/<name>_VARS.fd.
            if nv.get("template") is None and not list(nv):
                nv.getparent().remove(nv)
    return etree.tostring(root, encoding="unicode")


def interface_macs(xml) -> list[str]:
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [(m.get("address") or "").lower() for m in root.findall("devices/interface/mac")]


def interface_count(xml) -> int:
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return len(root.findall("devices/interface"))


def snapshots(conn, uuid) -> list[SnapshotInfo]:
    """The domain's snapshots and, for external ones, the overlay files they made."""
    dom = lookup(conn, uuid)
    try:
        snaps = dom.listAllSnapshots(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for snap in snaps:
        try:
            root = etree.fromstring(snap.getXMLDesc(0).encode())
        except libvirt.libvirtError:
            continue
        files = []
        for disk in root.findall("disks/disk"):
            if disk.get("snapshot") == "external":
                src = disk.find("source")
                if src is not None and (src.get("file") or src.get("dev")):
                    files.append(src.get("file") or src.get("dev"))
        infos.append(SnapshotInfo(name=snap.getName(), external_files=tuple(files)))
    return infos


def force_off(conn, uuid) -> bool:
    """`virsh destroy` when the domain runs (or is paused); True when it had to."""
    dom = lookup(conn, uuid)
    try:
        if not dom.isActive():
            return False
        dom.destroy()
        return True
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine(conn, uuid, *, snapshots_metadata, nvram):
    """`virsh undefine` with --snapshots-metadata and --nvram / --keep-nvram as chosen.

    The NVRAM flags are passed only to domains that have a variable store: drivers without UEFI
    (the test driver) refuse them. Without --snapshots-metadata libvirt refuses a domain that has
    snapshots, and that refusal is the operation's error.
    """
    dom = lookup(conn, uuid)
    try:
        has_nvram = bool(nvram_path(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))
        flags = libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA if snapshots_metadata else 0
        if has_nvram:
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM if nvram else libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine_quietly(conn, uuid):
    """Remove a clone whose later steps failed; never raises, it is cleanup."""
    try:
        domains.undefine(conn, uuid)
    except VirtError:
        pass
