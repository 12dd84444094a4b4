"""The connection test behind "save" on the host form: open the URI once, read the facts, close.

It runs on a worker (apps.hosts.tasks), the process that will hold the host's connections, so
the key file and known_hosts it checks are the worker's.
"""

import os

import libvirt

from apps.core.errors import VirtError, from_libvirt
from apps.hosts.uris import file_params

from .info import HostInfo, host_info


def probe(uri) -> HostInfo:
    """Connect, read the host's facts and close; raise VirtError with libvirt's own message."""
    for param, path in file_params(uri).items():
        if not os.path.exists(path):
            raise VirtError(f"The {param} {path} does not exist on the worker.")
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    try:
        return host_info(conn)
    finally:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
