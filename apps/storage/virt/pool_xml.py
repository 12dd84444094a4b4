"""Storage pool XML as typed classes over lxml (apps/core/xml.py): one class per element that
parses, edits and emits it, never string formatting.

The pool forms fill these typed fields and `Pool.to_xml()` gives the document libvirt's
storagePoolDefineXML takes; `Pool.parse(xml)` reads what libvirt gives back, keeping what the
classes do not model. Element names, nesting and order follow libvirt's storage pool format
(formatstorage.html and storagepool.rng) and the order libvirt itself writes them back in, so a
definition reads the same before and after a round trip. Golden files in
tests/storage/golden/pools/ pin what each pool type emits.
"""

from lxml import etree

from apps.core.xml import Child, Children, Prop, XMLObject

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


class SourceHost(XMLObject):
    """A server the pool talks to: NFS/CIFS/Gluster server, iSCSI portal or Ceph monitor."""

    TAG = "host"
    name = Prop("@name")
    port = Prop("@port", int)

    def __init__(self, name, port=None):
        super().__init__(name=name, port=port or None)


class SourceDevice(XMLObject):
    """A block device (or, for iSCSI, the target's IQN). part_separator only matters to disk
    pools on multipath devices, where libvirt must know whether partitions are named with a 'p'."""

    TAG = "device"
    path = Prop("@path")
    part_separator = Prop("@part_separator", "yesno")

    def __init__(self, path, part_separator=None):
        super().__init__(path=path, part_separator=part_separator)


class Adapter(XMLObject):
    """The SCSI host bus adapter of a scsi pool: a local scsi_hostN, or a Fibre Channel vHBA that
    libvirt creates on `parent` from the given world wide node and port names."""

    TAG = "adapter"
    type = Prop("@type")  # scsi_host | fc_host
    name = Prop("@name")
    parent = Prop("@parent")
    wwnn = Prop("@wwnn")
    wwpn = Prop("@wwpn")

    def __init__(self, type="scsi_host", name=None, parent=None, wwnn=None, wwpn=None):
        if type == "fc_host":
            values = {"parent": parent, "wwnn": wwnn, "wwpn": wwpn}
        else:
            values = {"name": name}
        super().__init__(type=type, **{k: v for k, v in values.items() if v})


class Auth(XMLObject):
    """CHAP (iSCSI) or cephx (RBD) credentials: a user name and the libvirt secret holding the key,
    named by UUID or by usage. The key itself never appears in pool XML."""

    TAG = "auth"
    type = Prop("@type")  # chap | ceph
    username = Prop("@username")
    secret_uuid = Prop("secret/@uuid")
    secret_usage = Prop("secret/@usage")

    def __init__(self, type, username, secret_uuid=None, secret_usage=None):
        super().__init__(type=type, username=username)
        self.node(["secret"], create=True)  # written even when it names nothing yet, as it always was
        if secret_uuid:
            self.secret_uuid = secret_uuid
        elif secret_usage is not None:
            self.secret_usage = secret_usage


class Source(XMLObject):
    """Where the pool's storage comes from; each pool type uses only some of these fields."""

    TAG = "source"
    # The order libvirt writes a pool's source in (virStoragePoolSourceFormat).
    ORDER = {"": ("host", "device", "dir", "adapter", "name", "initiator", "format", "auth", "vendor", "product")}
    hosts = Children(SourceHost, "host")
    devices = Children(SourceDevice, "device")
    dir = Prop("dir/@path")
    adapter = Child(Adapter)
    name = Prop("name")  # volume group, Ceph pool, Gluster volume, zpool, Vstorage cluster
    initiator_iqn = Prop("initiator/iqn/@name")
    format = Prop("format/@type")
    auth = Child(Auth)

    def __init__(
        self, hosts=(), devices=(), dir=None, adapter=None, name=None, initiator_iqn=None, format=None, auth=None
    ):
        super().__init__(
            hosts=list(hosts), devices=list(devices), dir=dir, adapter=adapter, name=name,
            initiator_iqn=initiator_iqn or None, format=format or None, auth=auth,
        )  # fmt: skip


class Permissions(XMLObject):
    """Mode, owner, group and SELinux label libvirt gives the target directory when it builds it."""

    TAG = "permissions"
    mode = Prop("mode")  # octal, as libvirt writes it: "0711"
    owner = Prop("owner", int)
    group = Prop("group", int)
    label = Prop("label")

    def __init__(self, mode=None, owner=None, group=None, label=None):
        values = {"mode": mode, "owner": owner, "group": group, "label": label}
        super().__init__(**{k: v for k, v in values.items() if v != ""})

    def __bool__(self):
        return len(self.el) > 0


class Target(XMLObject):
    TAG = "target"
    ORDER = {"": ("path", "permissions", "timestamps", "format", "encryption", "compat", "features")}
    path = Prop("path")
    permissions = Child(Permissions)

    def __init__(self, path, permissions=None):
        super().__init__(path=path, permissions=permissions or None)


class Pool(XMLObject):
    """A pool definition: built by the pool forms (`Pool(type, name, source=…, target=…)`), or
    read from libvirt (`Pool.parse(xml)`) with its sizes and anything else it holds."""

    TAG = "pool"
    ORDER = {"": ("name", "uuid", "capacity", "allocation", "available", "features", "source", "target")}
    type = Prop("@type")
    name = Prop("name")
    uuid = Prop("uuid")
    capacity = Prop("capacity", int)  # bytes, as libvirt writes them back
    allocation = Prop("allocation", int)
    available = Prop("available", int)
    source = Child(Source)
    target = Child(Target)

    def __init__(self, type, name, uuid=None, source=None, target=None):
        if type not in POOL_TYPES:
            raise ValueError(f"unknown pool type {type!r}")
        if type in NO_TARGET and target is not None:
            raise ValueError(f"a {type} pool has no target")
        super().__init__(type=type, name=name, uuid=uuid, source=source, target=target)

    @property
    def target_path(self):
        return self.target.path if self.target is not None else None


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
    if not isinstance(root.tag, str) or root.tag != Pool.TAG:
        raise PoolXMLError(f"The root element must be pool, not {root.tag}.")
    pool = Pool.wrap(root)
    if not pool.type:
        raise PoolXMLError('The <pool> element needs a type attribute, e.g. type="dir".')
    if not (pool.name or "").strip():
        raise PoolXMLError("The pool needs a <name>.")
    return root
