"""The osinfo database (Debian's `osinfo-db`: /usr/share/osinfo/os/**/*.xml), read with lxml.

virt-install's --os-variant comes from here: each OS's recommended RAM, disk and vCPUs become the
wizard's defaults, its device list says whether the guest has virtio drivers (else the disk goes
on SATA and the NIC is an e1000, as virt-install does), and its `<tree>` says where an install
tree keeps the kernel and initrd for each architecture.

Entries inherit what they do not say from the OS they derive from or clone (Debian 11 lists only
its new devices; virtio-net comes from Debian 6): resolved once here, like libosinfo does. The
parsed index is built once per process (about a second for ~800 files) and kept.
"""

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from lxml import etree

OSINFO_DIRS = [Path(os.environ.get("OSINFO_DATA_DIR", "/usr/share/osinfo")), Path("/usr/local/share/osinfo")]
GENERIC_ID = "http://libosinfo.org/linux/2022"  # what virt-install picks for "some recent Linux"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MIB = 1024 * 1024
GIB = 1024 * MIB

# PCI ids (vendor 1af4) of the virtio devices osinfo lists, legacy and 1.0.
VIRTIO_NET = {"http://pcisig.com/pci/1af4/1000", "http://pcisig.com/pci/1af4/1041"}
VIRTIO_BLOCK = {"http://pcisig.com/pci/1af4/1001", "http://pcisig.com/pci/1af4/1042"}
VIRTIO_RNG = {"http://pcisig.com/pci/1af4/1005", "http://pcisig.com/pci/1af4/1044"}
VIRTIO_BALLOON = {"http://pcisig.com/pci/1af4/1002", "http://pcisig.com/pci/1af4/1045"}
VIRTIO_GPU = {"http://pcisig.com/pci/1af4/1050"}
QXL = {"http://pcisig.com/pci/1b36/0100"}


@dataclass(frozen=True)
class Resources:
    ram: int | None = None  # bytes
    storage: int | None = None  # bytes
    n_cpus: int | None = None


@dataclass(frozen=True)
class Tree:
    url: str = ""
    kernel: str = ""
    initrd: str = ""
    treeinfo: bool = False  # a Red Hat style tree: .treeinfo says where the images are


@dataclass
class OS:
    id: str
    short_id: str
    short_ids: tuple[str, ...]
    name: str
    family: str = ""
    distro: str = ""
    version: str = ""
    vendor: str = ""
    release_date: date | None = None
    eol_date: date | None = None
    minimum: dict = field(default_factory=dict)  # arch ("all" too) -> Resources
    recommended: dict = field(default_factory=dict)
    devices: frozenset = frozenset()
    trees: dict = field(default_factory=dict)  # arch -> Tree
    firmware: dict = field(default_factory=dict)  # arch -> {"efi": True/False, ...}
    parents: tuple[str, ...] = ()  # derives-from, then clones: where missing facts come from

    # -- what the wizard asks ------------------------------------------------------------------

    def _resource(self, kind, arch, attr):
        table = getattr(self, kind)
        for key in (arch, "all"):
            res = table.get(key)
            if res is not None and getattr(res, attr):
                return getattr(res, attr)
        return None

    def recommended_ram_mib(self, arch="x86_64"):
        ram = self._resource("recommended", arch, "ram") or self._resource("minimum", arch, "ram")
        return ram // MIB if ram else None

    def minimum_ram_mib(self, arch="x86_64"):
        ram = self._resource("minimum", arch, "ram")
        return ram // MIB if ram else None

    def recommended_disk_gib(self, arch="x86_64"):
        size = self._resource("recommended", arch, "storage") or self._resource("minimum", arch, "storage")
        return max(1, size // GIB) if size else None

    def recommended_vcpus(self, arch="x86_64"):
        return self._resource("recommended", arch, "n_cpus") or self._resource("minimum", arch, "n_cpus")

    def has(self, device_ids):
        return bool(self.devices & device_ids)

    @property
    def virtio(self):
        """virtio disk and NIC drivers in the installer and the installed system."""
        return self.has(VIRTIO_BLOCK) and self.has(VIRTIO_NET)

    @property
    def eol(self):
        return self.eol_date is not None and self.eol_date < date.today()

    def tree(self, arch="x86_64"):
        return self.trees.get(arch) or self.trees.get("all")

    @property
    def label(self):
        return f"{self.name} ({self.short_id})"


def _date(text):
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def _int(text):
    try:
        return int(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _plain(el, tag):
    """The untranslated child text (osinfo repeats names per language with xml:lang)."""
    for child in el.findall(tag):
        if child.get(XML_LANG) is None:
            return (child.text or "").strip()
    return ""


def _resources(node):
    if node is None:
        return None
    return Resources(
        ram=_int(node.findtext("ram")), storage=_int(node.findtext("storage")), n_cpus=_int(node.findtext("n-cpus"))
    )


def _parse_os(el):
    minimum, recommended = {}, {}
    for res in el.findall("resources"):
        arch = res.get("arch", "all")
        if (m := _resources(res.find("minimum"))) is not None:
            minimum[arch] = m
        if (r := _resources(res.find("recommended"))) is not None:
            recommended[arch] = r
    trees = {}
    for t in el.findall("tree"):
        arch = t.get("arch", "all")
        trees.setdefault(
            arch,
            Tree(
                url=(t.findtext("url") or "").strip(),
                kernel=(t.findtext("kernel") or "").strip(),
                initrd=(t.findtext("initrd") or "").strip(),
                treeinfo=t.find("treeinfo") is not None,
            ),
        )
    firmware = {}
    for fw in el.findall("firmware"):
        firmware.setdefault(fw.get("arch", "all"), {})[fw.get("type", "")] = fw.get("supported", "yes") != "no"
    short_ids = tuple((s.text or "").strip() for s in el.findall("short-id") if s.text)
    parents = tuple(p.get("id") for tag in ("derives-from", "clones") for p in el.findall(tag) if p.get("id"))
    return OS(
        id=el.get("id"),
        short_id=short_ids[0] if short_ids else el.get("id"),
        short_ids=short_ids,
        name=_plain(el, "name") or el.get("id"),
        family=_plain(el, "family"),
        distro=_plain(el, "distro"),
        version=_plain(el, "version"),
        vendor=_plain(el, "vendor"),
        release_date=_date(el.findtext("release-date")),
        eol_date=_date(el.findtext("eol-date")),
        minimum=minimum,
        recommended=recommended,
        devices=frozenset(d.get("id") for d in el.findall("devices/device") if d.get("id")),
        trees=trees,
        firmware=firmware,
        parents=parents,
    )


def _files():
    for base in OSINFO_DIRS:
        directory = base / "os"
        if directory.is_dir():
            yield from sorted(directory.rglob("*.xml"))


def _inherit(entries):
    """Fill each entry's gaps (resources, devices) from its ancestors, as libosinfo does."""
    done = set()

    def resolve(os_, seen=()):
        if os_.id in done or os_.id in seen:
            return os_
        for pid in os_.parents:
            parent = entries.get(pid)
            if parent is None:
                continue
            resolve(parent, (*seen, os_.id))
            os_.devices = os_.devices | parent.devices
            if not os_.minimum:
                os_.minimum = dict(parent.minimum)
            if not os_.recommended:
                os_.recommended = dict(parent.recommended)
        done.add(os_.id)
        return os_

    for os_ in entries.values():
        resolve(os_)


@cache
def index() -> dict[str, OS]:
    """Every OS in the database by id, inheritance resolved. Empty when osinfo-db is missing."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    entries = {}
    for path in _files():
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        for el in root.findall("os"):
            if el.get("id"):
                entries[el.get("id")] = _parse_os(el)
    _inherit(entries)
    return entries


@cache
def _by_short_id():
    return {s: os_ for os_ in index().values() for s in os_.short_ids}


def get(key) -> OS | None:
    """An OS by its id (http://debian.org/debian/12) or any of its short ids (debian12)."""
    if not key:
        return None
    return index().get(key) or _by_short_id().get(key)


def generic() -> OS | None:
    return get(GENERIC_ID)


def _sort_key(os_):
    # Newest first, as virt-manager lists them; entries without a date go last.
    return (os_.release_date or date.min, os_.name)


def search(query="", *, limit=50, include_eol=False) -> list[OS]:
    """OSes whose name or short id matches every word of the query, newest first. End-of-life
    entries only when asked for (or when the query names one exactly), like virt-manager."""
    words = [w for w in re.split(r"\s+", (query or "").lower().strip()) if w]
    exact = get(query.strip()) if query else None
    found = []
    for os_ in index().values():
        hay = " ".join((os_.name, *os_.short_ids, os_.distro, os_.family)).lower()
        if all(w in hay for w in words) and (include_eol or not os_.eol or os_ is exact):
            found.append(os_)
    found.sort(key=_sort_key, reverse=True)
    if exact is not None and exact in found:
        found.remove(exact)
        found.insert(0, exact)
    return found[:limit]
