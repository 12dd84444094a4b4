"""Domain XML as typed classes over lxml: one class per element that parses, edits and emits it
(never string formatting), on apps/core/xml.py.

`domain` holds the document; `disk`, `interface` and `devices` its devices; `snapshot` the
<domainsnapshot> document; `volume_disk` the disk that attaches a pool's volume as libvirt wants
it for that pool's type; `nodedev` a host device as the node device driver describes it. Golden
files in tests/compute/golden/ pin what they emit, and that parsing then emitting gives the same
text back (golden/libvirt/ holds documents libvirt itself wrote).
"""

from .devices import Channel, Console, Controller, Graphics, Serial
from .disk import Disk, DiskAuth, DiskHost
from .domain import Domain
from .interface import Interface
from .nodedev import NodeDevice
from .snapshot import Snapshot, SnapshotDisk
from .volume_disk import PoolSource, disk_for_volume

__all__ = [
    "Channel", "Console", "Controller", "Disk", "DiskAuth", "DiskHost", "Domain", "Graphics", "Interface",
    "NodeDevice", "PoolSource", "Serial", "Snapshot", "SnapshotDisk", "disk_for_volume",
]  # fmt: skip
