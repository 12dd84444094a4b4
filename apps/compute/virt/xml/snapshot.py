"""<domainsnapshot>: a snapshot's definition, read, edited and written by one class.

What `virsh snapshot-create` takes (a name, a description, and for a disk-only external snapshot
one <disk> per device saying where its overlay goes) and what `snapshot-dumpxml` gives back (the
state, the creation time, the parent, whether it holds the guest's memory, and the domain as it
was, as a Domain).
"""

from lxml import etree

from apps.core.xml import Child, Children, Prop, XMLObject

from .domain import Domain


class SnapshotDisk(XMLObject):
    """One device of a snapshot: `snapshot` is internal, external or no; an external one names
    the overlay file the domain writes to from then on."""

    TAG = "disk"
    ORDER = {"": ("driver", "source")}
    name = Prop("@name")  # the guest target: vda
    snapshot = Prop("@snapshot")
    type = Prop("@type")
    format = Prop("driver/@type")
    source_file = Prop("source/@file")
    source_dev = Prop("source/@dev")

    @property
    def path(self):
        """The overlay's host path, "" when there is none."""
        return self.source_file or self.source_dev or ""


class Snapshot(XMLObject):
    TAG = "domainsnapshot"
    ORDER = {
        "": (
            "name", "genid", "description", "state", "parent", "creationTime", "memory", "disks", "domain",
            "inactiveDomain", "active", "cookie",
        ),
    }  # fmt: skip

    name = Prop("name")
    description = Prop("description")
    state = Prop("state")  # the domain's state when taken: running, shutoff, paused, disk-snapshot
    parent = Prop("parent/name")
    creation_time = Prop("creationTime", int)  # seconds since the epoch
    memory = Prop("memory/@snapshot")  # no | internal | external
    memory_file = Prop("memory/@file")
    disks = Children(SnapshotDisk, "disks/disk")
    domain = Child(Domain, "domain")
    inactive_domain = Child(Domain, "inactiveDomain")  # a running domain's saved definition, when it differs

    def __init__(self, name, description=None, *, external_disks=None):
        """What snapshotCreateXML takes. external_disks: [(target, overlay or None)] for a
        disk-only snapshot (None: leave that device out of it, as for CD-ROMs)."""
        self.el = etree.Element(self.TAG)
        self.name = name
        self.description = description or None
        if external_disks is not None:
            self.node(["disks"], create=True)
            for target, overlay in external_disks:
                if overlay is None:
                    self.place("disks/disk", SnapshotDisk(name=target, snapshot="no").el)
                else:
                    disk = SnapshotDisk(name=target, snapshot="external", format="qcow2", source_file=overlay)
                    self.place("disks/disk", disk.el)

    @property
    def external(self):
        return any(d.snapshot == "external" for d in self.disks)

    @property
    def has_memory(self):
        return self.memory in ("internal", "external")

    @property
    def external_files(self):
        """The overlay files an external snapshot made."""
        return tuple(d.path for d in self.disks if d.snapshot == "external" and d.path)
