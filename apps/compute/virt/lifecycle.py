"""Clone and delete at the libvirt level: reading what a domain's disks, snapshots and NVRAM are,
rewriting its inactive XML into a clone's (what virt-clone changes), and undefining with the flags
the user chose.

The XML is read and rewritten through the typed model (apps/compute/virt/xml/), in pure functions
tested without a hypervisor.
"""

import random
from dataclasses import dataclass

import libvirt

from apps.compute.virt import domains
from apps.compute.virt.domains import lookup
from apps.compute.virt.xml import Disk, Domain, Snapshot
from apps.core.errors import VirtError, from_libvirt

# The prefix libvirt and QEMU use for generated MACs (locally administered is the other choice;
# virt-clone uses this one too).
MAC_PREFIX = "52:54:00"


# One <disk> of the inactive definition, as the typed model reads it (target, device, type, path,
# pool and volume, format, readonly, shareable, and `writable`: what a clone copies and what
# deleting "its storage" may remove).
DiskSpec = Disk


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


def parse_disks(xml) -> list[Disk]:
    return Domain.parse(xml).disks


def nvram_path(xml) -> str:
    """The UEFI variable store's file (<os><nvram>), or "" for BIOS guests."""
    return (Domain.parse(xml).nvram or "").strip()


def used_macs(conn) -> set[str]:
    """Every MAC any domain on the host has (running or defined): a clone's must be new."""
    try:
        doms = conn.listAllDomains(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    macs = set()
    for dom in doms:
        try:
            doc = Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError:
            continue  # undefined meanwhile
        macs |= {iface.mac.lower() for iface in doc.interfaces if iface.mac}
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
    doc = Domain.parse(xml)
    doc.name = name
    doc.uuid = None
    doc.title = None  # the title names the source; a clone is another machine
    doc.drop_smbios_uuid()  # the SMBIOS system UUID would repeat the source's
    for disk in doc.disks:
        if disk.target in disks:
            disk.path = disks[disk.target]  # a /dev/ path (an LVM, disk or iSCSI pool) is a block disk
            disk.drop_backing_chain()  # the copy is flattened
    mac_iter = iter(macs)
    for iface in doc.interfaces:
        try:
            iface.mac = next(mac_iter)
        except StopIteration:
            raise VirtError("not enough new MAC addresses for the clone's NICs") from None
        iface.target = None
    for graphics in doc.graphics:
        if graphics.autoport is False or graphics.port not in (None, -1):
            graphics.autoport = True
            graphics.port = graphics.tls_port = None
    if nvram is not None and doc.has_nvram:
        # "": a fresh store from the template; libvirt picks <nvram_dir>/<name>_VARS.fd (an
        # <nvram/> with no template and nothing else is dropped).
        doc.nvram = nvram or None
    return doc.to_xml()


def interface_macs(xml) -> list[str]:
    return [iface.mac.lower() for iface in Domain.parse(xml).interfaces if iface.mac is not None]


def interface_count(xml) -> int:
    return len(Domain.parse(xml).interfaces)


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
            doc = Snapshot.parse(snap.getXMLDesc(0))
        except libvirt.libvirtError:
            continue
        infos.append(SnapshotInfo(name=snap.getName(), external_files=doc.external_files))
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
