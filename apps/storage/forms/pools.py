"""One form per libvirt pool type, each with only the fields that type takes.

Each form's `to_pool()` gives the typed Pool (apps/storage/virt/pool_xml.py); POOL_FORMS is the
registry the create pages list. Pools on local disks live here; SAN and network block storage
(iSCSI, SCSI HBAs, Ceph, Gluster) in pools_san.py.
"""

from django import forms

from apps.storage.forms.pool_base import PermissionsMixin, PoolForm, target_path_field
from apps.storage.forms.pool_fields import DeviceListField, HostNameField, NameField, PathField, validate_name
from apps.storage.forms.pools_san import GlusterPoolForm, IscsiDirectPoolForm, IscsiPoolForm, RbdPoolForm, ScsiPoolForm
from apps.storage.virt.pool_xml import Source, SourceDevice, SourceHost, Target

FS_FORMATS = ["auto", "ext4", "ext3", "ext2", "xfs", "vfat", "gfs2", "ocfs2", "iso9660", "udf"]
DISK_LABELS = [
    ("gpt", "GPT"),
    ("dos", "DOS / MBR"),
    ("dvh", "dvh"),
    ("mac", "mac"),
    ("bsd", "bsd"),
    ("pc98", "pc98"),
    ("sun", "sun"),
]


class DirPoolForm(PermissionsMixin, PoolForm):
    pool_type = "dir"
    description = "A directory on the host; each volume is a file in it. The simplest pool."
    build_default = True
    build_help = "Create the directory, with the permissions above, if it does not exist yet."

    target_path = target_path_field("/var/lib/libvirt/images/fast")


class FsPoolForm(PermissionsMixin, PoolForm):
    pool_type = "fs"
    description = "A block device with a file system that libvirt mounts on a directory."
    build_default = True
    build_help = "Create the mount point directory. The device is not formatted: it must hold a file system already."

    device = PathField(dev=True, help_text="Block device or partition holding the file system, e.g. /dev/sdb1.")
    fs_format = forms.ChoiceField(
        choices=[(f, f) for f in FS_FORMATS],
        initial="auto",
        label="File system",
        help_text="The file system type on the device; auto lets mount detect it.",
    )
    target_path = target_path_field("/mnt/fastpool")

    def source(self, data):
        return Source(devices=[SourceDevice(data["device"])], format=data["fs_format"])


class NetfsPoolForm(PermissionsMixin, PoolForm):
    pool_type = "netfs"
    description = "A network file system (NFS, GlusterFS or CIFS/SMB) that libvirt mounts on a directory."
    build_default = True
    build_help = "Create the mount point directory if it does not exist yet."

    netfs_format = forms.ChoiceField(
        choices=[("nfs", "NFS"), ("glusterfs", "GlusterFS (FUSE mount)"), ("cifs", "CIFS / SMB")],
        initial="nfs",
        label="Protocol",
    )
    server = HostNameField(help_text="NFS, Gluster or CIFS server host name or address, e.g. nfs.example.com.")
    source_path = forms.CharField(
        max_length=1024,
        label="Export / volume / share",
        help_text="NFS: the export path on the server, e.g. /srv/images. GlusterFS: the volume name, e.g. gv0. "
        "CIFS: the share name, e.g. vmimages.",
    )
    target_path = target_path_field("/mnt/nfs-images")

    def clean(self):
        cleaned = super().clean()
        value, fmt = cleaned.get("source_path"), cleaned.get("netfs_format")
        if value and fmt:
            try:
                if fmt == "nfs":
                    cleaned["source_path"] = PathField().clean(value)
                else:
                    validate_name(value)
            except forms.ValidationError as exc:
                self.add_error("source_path", exc)
        return cleaned

    def source(self, data):
        return Source(hosts=[SourceHost(data["server"])], dir=data["source_path"], format=data["netfs_format"])


class LogicalPoolForm(PoolForm):
    pool_type = "logical"
    description = "An LVM volume group; each volume is a logical volume."
    build_default = False
    build_help = "Create the volume group on the devices above (pvcreate, vgcreate). This WIPES those devices."

    vg_name = NameField(
        label="Volume group",
        help_text="LVM volume group name, e.g. vg_vms. An existing group is used as it is.",
    )
    devices = DeviceListField(
        required=False,
        help_text="Physical volumes, one per line, e.g. /dev/sdc. Needed only to build a new group.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("build") and not cleaned.get("devices"):
            self.add_error("devices", "Name the devices to build the volume group on.")
        return cleaned

    def source(self, data):
        devices = [SourceDevice(path) for path in data["devices"]]
        return Source(devices=devices, name=data["vg_name"], format="lvm2")

    def target(self, data):
        return Target(path=f"/dev/{data['vg_name']}")


class DiskPoolForm(PoolForm):
    pool_type = "disk"
    description = "A whole disk; each volume is a partition on it."
    build_default = False
    build_help = "Write a new, empty partition table of the type above. This WIPES the disk."

    device = PathField(dev=True, help_text="The whole disk, e.g. /dev/sdb or /dev/mapper/mpatha.")
    disk_format = forms.ChoiceField(choices=DISK_LABELS, initial="gpt", label="Partition table")
    part_separator = forms.ChoiceField(
        choices=[("", "default"), ("yes", "yes"), ("no", "no")],
        required=False,
        label="Partition separator",
        help_text="Only for multipath devices (/dev/mapper/…): whether partition names put a 'p' before the number.",
    )
    target_path = forms.ChoiceField(
        choices=[("/dev", "/dev"), ("/dev/disk/by-path", "/dev/disk/by-path"), ("/dev/disk/by-id", "/dev/disk/by-id")],
        initial="/dev",
        label="Partition paths",
        help_text="Where libvirt finds the partitions; /dev unless you need stable names.",
    )

    def source(self, data):
        sep = {"yes": True, "no": False}.get(data.get("part_separator") or "")
        return Source(devices=[SourceDevice(data["device"], part_separator=sep)], format=data["disk_format"])

    def target(self, data):
        return Target(path=data["target_path"])


class MpathPoolForm(PoolForm):
    pool_type = "mpath"
    description = "Every multipath device on the host, read-only (one such pool per host)."

    def target(self, data):
        return Target(path="/dev/mapper")


class ZfsPoolForm(PoolForm):
    pool_type = "zfs"
    description = "A ZFS pool; each volume is a zvol."
    build_default = False
    build_help = "Create the zpool on the devices above (zpool create). This WIPES those devices."

    zpool = NameField(label="ZFS pool", help_text="The zpool's name, e.g. tank. An existing pool is used as it is.")
    devices = DeviceListField(
        required=False, help_text="Devices, one per line, e.g. /dev/sdd. Needed only to build a new zpool."
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("build") and not cleaned.get("devices"):
            self.add_error("devices", "Name the devices to build the zpool on.")
        return cleaned

    def source(self, data):
        return Source(devices=[SourceDevice(path) for path in data["devices"]], name=data["zpool"])


class VstoragePoolForm(PermissionsMixin, PoolForm):
    pool_type = "vstorage"
    description = "A Virtuozzo Storage cluster that libvirt mounts on a directory."

    cluster = NameField(label="Cluster name", help_text="The Virtuozzo Storage cluster name, e.g. vstorage1.")
    target_path = target_path_field("/mnt/vstorage1")

    def source(self, data):
        return Source(name=data["cluster"])


POOL_FORMS = {
    "dir": ("Directory", DirPoolForm),
    "fs": ("File system (local device)", FsPoolForm),
    "netfs": ("Network file system (NFS, GlusterFS, CIFS)", NetfsPoolForm),
    "logical": ("LVM volume group", LogicalPoolForm),
    "disk": ("Physical disk", DiskPoolForm),
    "iscsi": ("iSCSI target", IscsiPoolForm),
    "iscsi-direct": ("iSCSI direct (libiscsi)", IscsiDirectPoolForm),
    "scsi": ("SCSI host adapter (HBA)", ScsiPoolForm),
    "mpath": ("Multipath devices", MpathPoolForm),
    "rbd": ("Ceph RBD", RbdPoolForm),
    "gluster": ("Gluster (libgfapi)", GlusterPoolForm),
    "zfs": ("ZFS", ZfsPoolForm),
    "vstorage": ("Virtuozzo Storage", VstoragePoolForm),
}
