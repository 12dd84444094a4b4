"""Device elements kvmweb does not build but reads, for the XML policy (apps/compute/xmlpolicy/):
input devices, the RNG, the TPM, audio back ends, memory devices, host devices, USB
redirection, shared host directories, smartcards, shared memory, parallel ports, and the ACPI
tables of <os>. Each names only what the policy asks about; the rest stays in the element."""

from apps.core.xml import Prop, XMLObject

from .devices import _CharDevice


class Parallel(_CharDevice):
    TAG = "parallel"


class Redirdev(_CharDevice):
    """USB redirection: the hypervisor opens the connection the host side names (spicevmc, tcp, …)."""

    TAG = "redirdev"
    bus = Prop("@bus")


class Input(XMLObject):
    """mouse, keyboard, tablet; or passthrough/evdev, which hand the guest a host /dev/input device."""

    TAG = "input"
    type = Prop("@type")
    bus = Prop("@bus")
    source_evdev = Prop("source/@evdev")
    source_dev = Prop("source/@dev")


class Rng(XMLObject):
    """virtio-rng: a back end of model random (a host device file), builtin, or egd (a chardev)."""

    TAG = "rng"
    model = Prop("@model")
    backend_model = Prop("backend/@model")
    backend_type = Prop("backend/@type")  # egd: the chardev's type
    backend = Prop("backend")  # random: the host file, /dev/urandom by default


class Tpm(XMLObject):
    """A TPM: swtpm (backend emulator), or the host's own TPM (passthrough, external)."""

    TAG = "tpm"
    model = Prop("@model")
    backend_type = Prop("backend/@type")
    backend_device = Prop("backend/device/@path")
    backend_source = Prop("backend/source/@path")


class Audio(XMLObject):
    """An audio back end (<audio id= type=>): none, spice, or one that reaches the host's sound."""

    TAG = "audio"
    id = Prop("@id", int)
    type = Prop("@type")
    path = Prop("@path")  # type file


class MemoryDevice(XMLObject):
    """<memory model=…>: a DIMM, virtio-mem, or NVDIMM / virtio-pmem backed by a host file."""

    TAG = "memory"
    model = Prop("@model")
    access = Prop("@access")
    source_path = Prop("source/path")
    target_size = Prop("target/size", int)


class Hostdev(XMLObject):
    """A host device handed to the guest: PCI, USB, SCSI, mdev, …"""

    TAG = "hostdev"
    mode = Prop("@mode")  # subsystem | capabilities
    type = Prop("@type")
    managed = Prop("@managed", "yesno")


class Filesystem(XMLObject):
    """A host directory (or block device, or file) shared into the guest."""

    TAG = "filesystem"
    type = Prop("@type")  # mount | block | file | template | ram | bind | volume
    accessmode = Prop("@accessmode")
    driver = Prop("driver/@type")
    source_dir = Prop("source/@dir")
    target_dir = Prop("target/@dir")


class Smartcard(XMLObject):
    TAG = "smartcard"
    mode = Prop("@mode")  # host | host-certificates | passthrough
    type = Prop("@type")  # passthrough: the chardev's type
    database = Prop("database")


class Shmem(XMLObject):
    """ivshmem: memory shared with other guests or a host server."""

    TAG = "shmem"
    name = Prop("@name")
    model = Prop("model/@type")
    server_path = Prop("server/@path")


class AcpiTable(XMLObject):
    """<os><acpi><table type='slic'>/path</table>: a host file QEMU hands the guest as ACPI table."""

    TAG = "table"
    type = Prop("@type")
    path = Prop(".")
