"""Storage pool XML, built with lxml: one small class per element, never string formatting.

The pool forms fill these typed fields and `Pool.to_xml()` gives the document libvirt's
storagePoolDefineXML takes. Element names, nesting and order follow libvirt's storage pool format
(formatstorage.html and storagepool.rng) and the order libvirt itself writes them back in, so a
definition reads the same before and after a round trip. Golden files in
tests/storage/golden/pools/ pin what each pool type emits.
"""

from dataclasses import dataclass, field

from lxml import etree

from apps.core.xml import sub as _sub

# Every pool type libvirt still has a backend for (sheepdog was removed in libvirt 8.8).
POOL_TYPES = (
    "dir",
    "fs",
    "netfs",
    "logical",
    "disk",
    "iscsi",
    "iscsi-direct",
    "scsi",
    "mpath",
    "rbd",
    "gluster",
    "zfs",
    "vstorage",
)
# Network pools libvirt reaches without a local path: they must not carry a <target>.
NO_TARGET = ("rbd", "gluster", "iscsi-direct")


@dataclass
class SourceHost:
    """A server the pool talks to: NFS/CIFS/Gluster server, iSCSI portal or Ceph monitor."""

    name: str
    port: int | None = None

    def to_element(self):
        el = etree.Element("host", name=self.name)
        if self.port:
            el.set("port", str(self.port))
        return el


@dataclass
class SourceDevice:
    """A block device (or, for iSCSI, the target's IQN). part_separator only matters to disk
    pools on multipath devices, where libvirt must know whether partitions are named with a 'p'."""

    path: str
    part_separator: bool | None = None

    def to_element(self):
        el = etree.Element("device", path=self.path)
        if self.part_separator is not None:
            el.set("part_separator", "yes" if self.part_separator else "no")
        return el


@dataclass
class Adapter:
    """The SCSI host bus adapter of a scsi pool: a local scsi_hostN, or a Fibre Channel vHBA that
    libvirt creates on `parent` from the given world wide node and port names."""

    type: str = "scsi_host"  # scsi_host | fc_host
    name: str | None = None
    parent: str | None = None
    wwnn: str | None = None
    wwpn: str | None = None

    def to_element(self):
        if self.type == "fc_host":
            attrs = {"type": "fc_host", "parent": self.parent, "wwnn": self.wwnn, "wwpn": self.wwpn}
        else:
            attrs = {"type": "scsi_host", "name": self.name}
        return etree.Element("adapter", {k: v for k, v in attrs.items() if v})


@dataclass
class Auth:
    """CHAP (iSCSI) or cephx (RBD) credentials: a user name and the libvirt secret holding the key,
    named by UUID or by usage. The key itself never appears in pool XML."""

    type: str  # chap | ceph
    username: str
    secret_uuid: str | None = None
    secret_usage: str | None = None

    def to_element(self):
        el = etree.Element("auth", type=self.type, username=self.username)
        if self.secret_uuid:
            _sub(el, "secret", uuid=self.secret_uuid)
        else:
            _sub(el, "secret", usage=self.secret_usage)
        return el


@dataclass
class Source:
    """Where the pool's storage comes from; each pool type uses only some of these fields."""

    hosts: list[SourceHost] = field(default_factory=list)
    devices: list[SourceDevice] = field(default_factory=list)
    dir: str | None = None
    adapter: Adapter | None = None
    name: str | None = None  # volume group, Ceph pool, Gluster volume, zpool, Vstorage cluster
    initiator_iqn: str | None = None
    format: str | None = None
    auth: Auth | None = None

    def to_element(self):
        el = etree.Element("source")
        for item in [*self.hosts, *self.devices]:
            el.append(item.to_element())
        if self.dir is not None:
            _sub(el, "dir", path=self.dir)
        if self.adapter is not None:
            el.append(self.adapter.to_element())
        if self.name is not None:
            _sub(el, "name", self.name)
        if self.initiator_iqn:
            _sub(_sub(el, "initiator"), "iqn", name=self.initiator_iqn)
        if self.format:
            _sub(el, "format", type=self.format)
        if self.auth is not None:
            el.append(self.auth.to_element())
        return el


@dataclass
class Permissions:
    """Mode, owner, group and SELinux label libvirt gives the target directory when it builds it."""

    mode: str | None = None  # octal, as libvirt writes it: "0711"
    owner: int | None = None
    group: int | None = None
    label: str | None = None

    def __bool__(self):
        return any(v is not None and v != "" for v in (self.mode, self.owner, self.group, self.label))

    def to_element(self):
        el = etree.Element("permissions")
        for tag in ("mode", "owner", "group", "label"):
            value = getattr(self, tag)
            if value is not None and value != "":
                _sub(el, tag, value)
        return el


@dataclass
class Target:
    path: str
    permissions: Permissions | None = None

    def to_element(self):
        el = etree.Element("target")
        _sub(el, "path", self.path)
        if self.permissions:
            el.append(self.permissions.to_element())
        return el


@dataclass
class Pool:
    type: str
    name: str
    uuid: str | None = None
    source: Source | None = None
    target: Target | None = None

    def __post_init__(self):
        if self.type not in POOL_TYPES:
            raise ValueError(f"unknown pool type {self.type!r}")
        if self.type in NO_TARGET and self.target is not None:
            raise ValueError(f"a {self.type} pool has no target")

    def to_element(self):
        root = etree.Element("pool", type=self.type)
        _sub(root, "name", self.name)
        if self.uuid:
            _sub(root, "uuid", self.uuid)
        if self.source is not None:
            root.append(self.source.to_element())
        if self.target is not None:
            root.append(self.target.to_element())
        return root

    def to_xml(self):
        return etree.tostring(self.to_element(), pretty_print=True, encoding="unicode")


class PoolXMLError(ValueError):
    """Pasted pool XML that cannot be a pool definition; the message is meant for the user."""


MAX_XML_BYTES = 64 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


def parse_pool(text):
    """Read pasted pool XML: well-formed, no DOCTYPE (no entities reach libvirt), root <pool>
    with a type and a name. Returns the root element; libvirt judges the rest."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_XML_BYTES:
        raise PoolXMLError(f"The XML is larger than {MAX_XML_BYTES // 1024} KiB.")
    try:
        tree = etree.fromstring(data, _PARSER).getroottree()
    except etree.XMLSyntaxError as exc:
        raise PoolXMLError(f"This is not well-formed XML: {exc.msg}") from None
    if tree.docinfo.doctype:
        raise PoolXMLError("DOCTYPE declarations are not accepted in pool XML.")
    root = tree.getroot()
    if not isinstance(root.tag, str) or root.tag != "pool":
        raise PoolXMLError(f"The root element must be pool, not {root.tag}.")
    if not root.get("type"):
        raise PoolXMLError('The <pool> element needs a type attribute, e.g. type="dir".')
    if not (root.findtext("name") or "").strip():
        raise PoolXMLError("The pool needs a <name>.")
    return root
