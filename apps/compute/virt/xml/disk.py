"""<disk>: one class reads, edits and writes a domain's disk of any source type.

- file, block, dir: a host path (`<source file|dev|dir=…>`);
- network: a protocol (rbd, gluster, iscsi, nbd, …), a `name` on the server, the servers
  (`<host>`), and for rbd and iscsi the `<auth>` naming the libvirt secret with the key;
- volume: a libvirt storage pool and a volume in it (`<source pool= volume=>`), which libvirt
  resolves to one of the above when the domain starts.

Plus the driver's format, the guest-side target and bus, read-only, shareable, serial and boot
order. Whatever else a definition holds (backing chains, iotune, addresses, …) stays as it is.
"""

from lxml import etree

from apps.core.xml import Children, Flag, Prop, XMLObject

# The order libvirt writes a disk's children in (virDomainDiskDefFormat) and a source's.
DISK_ORDER = (
    "driver", "auth", "source", "backingStore", "backenddomain", "geometry", "blockio", "mirror", "target",
    "iotune", "readonly", "shareable", "transient", "serial", "wwn", "vendor", "product", "encryption", "boot",
    "alias", "address",
)  # fmt: skip
SOURCE_ORDER = ("host", "snapshot", "config", "initiator", "auth", "encryption", "reservations", "slices", "seclabel")
# Where a source lives, per disk type; the attributes that name a location (an edit that
# moves a disk elsewhere removes them all, with the network-only children).
PATH_ATTR = {"file": "file", "block": "dev", "dir": "dir"}
LOCATION_ATTRS = ("file", "dev", "dir", "pool", "volume", "mode", "protocol", "name", "query", "tls")
NETWORK_CHILDREN = ("host", "snapshot", "config", "initiator", "auth")


class DiskHost(XMLObject):
    """A server of a network disk: a Ceph monitor, a Gluster server, an iSCSI portal."""

    TAG = "host"
    name = Prop("@name")
    port = Prop("@port", int)
    transport = Prop("@transport")
    socket = Prop("@socket")


class DiskAuth(XMLObject):
    """Who the disk logs in as, and the libvirt secret holding the key (by UUID or by usage).
    secret_type is "ceph" for rbd and "iscsi" for iSCSI (CHAP); the key itself is never here."""

    TAG = "auth"
    username = Prop("@username")
    secret_type = Prop("secret/@type")
    secret_uuid = Prop("secret/@uuid")
    secret_usage = Prop("secret/@usage")


class Disk(XMLObject):
    """A domain's disk.

    `Disk(source, target="vda", bus="virtio", format="qcow2", device="disk", readonly=False)`
    builds a disk on a host path as `virsh attach-disk` adds it (a /dev/ path is a block device;
    no source is an empty CD-ROM drive); other sources set the properties below, as
    `disk_for_volume` does. `Disk.parse(xml)` or `Disk.wrap(element)` read one libvirt wrote.
    """

    TAG = "disk"
    ORDER = {"": DISK_ORDER, "source": SOURCE_ORDER}

    type = Prop("@type")  # file | block | dir | network | volume
    device = Prop("@device")  # disk | cdrom | floppy | lun
    has_driver = Flag("driver")
    driver_name = Prop("driver/@name")
    format = Prop("driver/@type")  # raw, qcow2, …
    cache = Prop("driver/@cache")
    source_file = Prop("source/@file")
    source_dev = Prop("source/@dev")
    source_dir = Prop("source/@dir")
    protocol = Prop("source/@protocol")  # network: rbd, gluster, iscsi, nbd, …
    source_name = Prop("source/@name")  # network: "cephpool/image", "glustervol/dir/file", "iqn…/lun"
    pool = Prop("source/@pool")  # volume
    volume = Prop("source/@volume")
    source_mode = Prop("source/@mode")  # volume of an iSCSI pool: host | direct
    hosts = Children(DiskHost, "source/host")
    initiator_iqn = Prop("source/initiator/iqn/@name")
    target = Prop("target/@dev")
    bus = Prop("target/@bus")
    readonly = Flag("readonly")
    shareable = Flag("shareable")
    serial = Prop("serial")
    boot_order = Prop("boot/@order", int)

    def __init__(self, source=None, target="vda", bus="virtio", format="qcow2", device="disk", readonly=False, **more):
        self.el = etree.Element(self.TAG)
        self.type = "file"  # an empty drive is a file disk without a source, as libvirt writes it
        self.device = device
        self.driver_name = "qemu"
        self.format = format
        if source:
            self.path = source
        self.target = target
        self.bus = bus
        if readonly or device == "cdrom":
            self.readonly = True
        self.set(**more)

    # -- auth: inside <source> since libvirt 3.9, directly under <disk> before that --------------

    @property
    def auth(self):
        el = self.el.find("source/auth")
        if el is None:
            el = self.el.find("auth")
        return None if el is None else DiskAuth.wrap(el)

    @auth.setter
    def auth(self, value):
        for old in [*self.el.findall("source/auth"), *self.el.findall("auth")]:
            old.getparent().remove(old)
        if value is not None:
            value.el = self.place("source/auth", value.el)

    # -- where the data is -------------------------------------------------------------------

    @property
    def path(self):
        """The host path of a file, block or dir disk; "" for other sources and empty drives."""
        attr = PATH_ATTR.get(self.type)
        return (getattr(self, f"source_{attr}") or "") if attr else ""

    @path.setter
    def path(self, value):
        """Put the disk on a host path (None or "": no source, an empty drive): a /dev/ path is
        a block device, anything else a file. Whatever located the old source goes."""
        src = self.el.find("source")
        if src is not None:
            for attr in LOCATION_ATTRS:
                src.attrib.pop(attr, None)
            for child in [c for c in src if c.tag in NETWORK_CHILDREN]:
                src.remove(child)
        kind = "block" if value and value.startswith("/dev/") else "file"
        self.type = kind
        if value:
            setattr(self, f"source_{PATH_ATTR[kind]}", value)
        elif src is not None:
            self.prune(src)

    def drop_backing_chain(self):
        """A flattened copy has no backing chain: the <backingStore> elements go."""
        for backing in self.el.findall("backingStore"):
            self.el.remove(backing)

    def eject(self):
        """No medium: the <source> goes whole (the drive stays, empty, as libvirt writes one)."""
        for src in self.el.findall("source"):
            self.el.remove(src)

    @property
    def source(self):
        """What the disk reads, as a person names it: the path, "pool/volume", or the network
        source's name. Setting it puts the disk on a host path (see `path`)."""
        if self.type == "volume":
            return f"{self.pool}/{self.volume}" if self.volume else ""
        if self.type == "network":
            return self.source_name or ""
        return self.path

    @source.setter
    def source(self, value):
        self.path = value

    @property
    def kind(self):
        """The source type (file, block, dir, network, volume); the old builder's name for it."""
        return self.type or "file"

    @property
    def has_source(self):
        return bool(self.path or self.volume or self.source_name)

    @property
    def writable(self):
        """What virt-clone copies and what deleting "its storage" may remove: a disk on a host path
        or a pool volume that the guest writes and no other guest shares. Read-only disks and
        CD-ROMs (ISOs) are shared; network disks live on a cluster the VM does not own."""
        located = bool(self.path or self.volume)
        return (self.device or "disk") in ("disk", "lun") and not self.readonly and not self.shareable and located
