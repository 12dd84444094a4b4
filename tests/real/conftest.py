"""The tests in this folder need libvirtd's QEMU driver and a QEMU that starts a domain.

Outside CI a machine without them skips these tests and says why. Under CI (CI=true) it fails
them instead: otherwise a CI machine whose libvirtd is down, or whose QEMU cannot start anything,
would pass the run with every real test skipped and nothing proven.

`qemu_conn` here overrides the one in tests/conftest.py for this folder (fixtures that tests here
use, such as `tiny_domain`, get this one too): it also proves, once per session, that QEMU starts
a domain under TCG, which every real test needs whatever the host's KVM can do.
"""

import uuid

import pytest

from apps.compute.virt import domains
from apps.compute.virt.xml import Domain
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from tests.helpers import QEMU_URI, unavailable, unique


def _start_and_remove(conn, domain_type):
    """Define a diskless 32 MiB domain, start it, remove it; VirtError with libvirt's or QEMU's
    words when it cannot start."""
    spec = Domain(name=unique("kvmweb-probe"), memory_mib=32, domain_type=domain_type, uuid=str(uuid.uuid4()))
    dom_uuid = domains.define(conn, spec.to_xml())
    try:
        domains.power(conn, dom_uuid, "start")
    finally:
        domains.undefine(conn, dom_uuid)


@pytest.fixture(scope="session")
def qemu_starts_domains():
    """libvirtd's QEMU driver, checked once: it answers and QEMU starts a domain under TCG."""
    try:
        conn = connection.get(QEMU_URI)
    except VirtError as exc:
        unavailable(f"libvirtd's QEMU driver does not answer at {QEMU_URI}: {exc}")
    try:
        _start_and_remove(conn, "qemu")
    except VirtError as exc:
        unavailable(f"QEMU cannot start a domain under TCG on {QEMU_URI}: {exc}")
    return conn


@pytest.fixture
def qemu_conn(qemu_starts_domains):
    """The real libvirtd's QEMU driver (the cached connection, reopened if it died)."""
    try:
        return connection.get(QEMU_URI)
    except VirtError as exc:
        unavailable(f"libvirtd's QEMU driver does not answer at {QEMU_URI}: {exc}")
