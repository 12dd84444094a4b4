"""What an uploaded image may not contain: a reference to another file.

libvirt probes the format of the files in a dir pool, and QEMU opens what an image names: a qcow2
backing file or external data file, a QED backing file, a VMDK's extents. Named inside an upload,
any of these could be any file on the host (another VM's disk, /etc/shadow), read by the VM the
image is attached to. Only standalone images are taken; the header is read from the first
HEAD_BYTES of the upload, however the browser cut it into pieces.
"""

from apps.core.errors import OperationError

HEAD_BYTES = 64 * 1024
QCOW2_MAGIC = b"QFI\xfb"
QED_MAGIC = b"QED\x00"
VMDK_SPARSE_MAGIC = b"KDMV"
VMDK_DESCRIPTOR = b"# Disk DescriptorFile"
QCOW2_EXTERNAL_DATA_FILE = 1 << 2  # incompatible feature bit: the data lives in another file

STANDALONE = "upload a standalone image (`qemu-img convert -O qcow2 in.img out.qcow2` makes one)."


def _u32(data, at):
    return int.from_bytes(data[at : at + 4], "big")


def _u64(data, at):
    return int.from_bytes(data[at : at + 8], "big")


def refuse_linked(head):
    """Raise OperationError when the image starting with `head` names another file."""
    if head[:4] == QCOW2_MAGIC:
        if len(head) < 32:
            raise OperationError("This qcow2 image is too short to be one.")
        if _u64(head, 8):
            raise OperationError(f"This qcow2 image names a backing file; {STANDALONE}")
        if _u32(head, 4) >= 3 and len(head) >= 80 and _u64(head, 72) & QCOW2_EXTERNAL_DATA_FILE:
            raise OperationError(f"This qcow2 image keeps its data in an external file; {STANDALONE}")
    elif head[:4] == QED_MAGIC:
        # QED is little-endian: features at 16 (bit 0: has a backing file), the backing file
        # name's offset at 56.
        features = int.from_bytes(head[16:24], "little")
        if features & 1 or (len(head) >= 60 and int.from_bytes(head[56:60], "little")):
            raise OperationError(f"This QED image names a backing file; {STANDALONE}")
    elif head[:4] == VMDK_SPARSE_MAGIC or head.lstrip()[: len(VMDK_DESCRIPTOR)] == VMDK_DESCRIPTOR:
        raise OperationError(f"VMDK images name their extents as files; {STANDALONE}")
