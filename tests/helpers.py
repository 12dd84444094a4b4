"""Shared test helpers: fresh domains on the shared test driver, users with roles, waiting, and
what a test does when a real component it needs is missing (skip here, fail under CI)."""

import os
import time
import uuid

import pytest

from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Interface
from apps.hosts.virt import connection

TEST_URI = "test+unix:///default"
QEMU_URI = "qemu:///system"
# Domains a test defined on the shared test driver; conftest removes them after each test so a
# demo running on the same libvirtd does not fill up with test leftovers.
created_domains: list[str] = []


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def define_test_domain(name=None, *, start=False, memory_mib=256, vcpus=1, networks=()):
    """Define a new domain on the shared test driver, with a NIC on each of `networks` (libvirt
    network names); returns its UUID string."""
    spec = Domain(
        name=name or unique(),
        memory_mib=memory_mib,
        vcpus=vcpus,
        domain_type="test",
        disks=[Disk(source=f"/var/lib/libvirt/images/{name or 'x'}.qcow2")],
        interfaces=[Interface(network=net) for net in networks],
    )
    conn = connection.get(TEST_URI)
    dom_uuid = domains.define(conn, spec.to_xml())
    created_domains.append(dom_uuid)
    if start:
        domains.power(conn, dom_uuid, "start")
    return dom_uuid


def make_vm(host, *, start=False, name=None):
    """A new domain on the shared test driver plus its inventory row on `host`, without waiting
    for a monitor. The domain is read back where it was defined, so `host` may be any host row
    (one whose URI is never connected in the test, too)."""
    dom_uuid = define_test_domain(name, start=start)
    conn = connection.get(TEST_URI)
    return vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(conn, dom_uuid))


def wait_for(predicate, timeout=10.0, interval=0.1, message="condition"):
    """Poll a condition in a test (the product itself never polls where an event exists)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def under_ci():
    """CI sets CI=true; there a real component the suite needs must be present."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason):
    """A real component this test needs (libvirtd's QEMU driver, a QEMU that starts a domain, a
    server the test talks to) is missing. On a developer's machine the test skips and says why;
    under CI the test fails, so that a machine without it cannot pass the run by skipping every
    test that would have used it."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: the suite needs this, so the test fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def finished(op, timeout=60.0):
    """Wait until the real worker has finished an Operation the test queued; returns it re-read."""
    from apps.operations.models import Operation

    wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=timeout, message=f"{op.kind} #{op.pk} to end")
    op.refresh_from_db()
    return op


def remove_created_domains():
    conn = connection.get(TEST_URI)
    while created_domains:
        domains.undefine(conn, created_domains.pop())


def sync_networks(host, uri=TEST_URI):
    """The host's libvirt networks into the inventory, as the monitor would on connect (tests that
    run no monitor and name a network)."""
    from apps.network.services.inventory import network_inventory_sync
    from apps.network.virt import networks as network_virt

    return network_inventory_sync(host=host, infos=network_virt.list_networks(connection.get(uri)))
