"""Which pools a storage manager may define, and which need the right to manage the host.

A pool whose source is a device of the host — a file system to mount, a disk to partition, LVM
volume groups, SCSI/multipath LUNs, an iSCSI target the host logs into, a ZFS pool — hands its
creator the host's block devices: whoever may write them is root there. Those need host.manage.
A directory pool (dir, fs, netfs target) stays under the prefixes an administrator set
(KVMWEB_POOL_PATH_PREFIXES), and never inside libvirt's or the system's own directories, whatever
the prefixes say: a pool over /var/lib/libvirt/qemu would hand out every VM's NVRAM and saved
memory as volumes.
"""

import posixpath

from django.conf import settings
from django.core.exceptions import PermissionDenied

from apps.authz.rights import deny, may

DEVICE_BACKED = {"fs", "disk", "logical", "scsi", "mpath", "iscsi", "iscsi-direct", "zfs"}
DIRECTORY_TYPES = {"dir", "fs", "netfs", "vstorage"}
NEVER_UNDER = (
    "/var/lib/libvirt/qemu/",
    "/var/lib/libvirt/dnsmasq/",
    "/var/lib/libvirt/swtpm/",
    "/var/lib/libvirt/network/",
    "/var/lib/libvirt/lockd/",
    "/var/lib/libvirt/sanlock/",
    "/etc/",
    "/run/",
    "/var/run/",
    "/proc/",
    "/sys/",
    "/dev/",
    "/boot/",
    "/root/",
    "/home/",
    "/usr/",
)


class PoolPolicyError(ValueError):
    """A pool this user may not define here; the message is for the form."""


def path_prefixes():
    return [p if p.endswith("/") else p + "/" for p in settings.KVMWEB_POOL_PATH_PREFIXES if p]


def target_problem(path):
    """Why a directory pool may not live at `path`, or "" when it may."""
    if not path or not path.startswith("/") or ".." in path.split("/"):
        return "Give the pool's directory as an absolute path without '..'."
    here = posixpath.normpath(path).rstrip("/") + "/"
    for banned in NEVER_UNDER:
        if here.startswith(banned) or banned.startswith(here):
            return f"{path} is inside (or holds) {banned.rstrip('/')}, which belongs to libvirt or the system."
    allowed = path_prefixes()
    if not any(here.startswith(p) and here != p for p in allowed):
        return f"A pool's directory must be under {', '.join(allowed)} (KVMWEB_POOL_PATH_PREFIXES)."
    return ""


def check_pool(actor, host, pool_type, target_path):
    """Raise PermissionDenied (audited) or PoolPolicyError for a pool `actor` may not define."""
    if actor is not None and pool_type in DEVICE_BACKED and not may(actor, "host.manage", host):
        # Said with its reason: "you may not add hosts" alone reads as a wrong refusal here.
        message = (
            f"A {pool_type} pool uses the host's own devices, so it needs the right to add, edit and "
            "remove hosts (host.manage) on this host."
        )
        deny(actor, "host.manage", host, reason=message)
        raise PermissionDenied(message)
    if pool_type in DIRECTORY_TYPES:
        problem = target_problem(target_path or "")
        if problem:
            raise PoolPolicyError(problem)
