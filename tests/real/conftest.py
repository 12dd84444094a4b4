"""A tiny real QEMU domain (KVM where /dev/kvm works, TCG always) for the tests in this folder."""

import subprocess
import uuid

import pytest

from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Graphics
from apps.hosts.virt import connection
from apps.hosts.virt.errors import VirtError
from tests.helpers import unique

QEMU_URI = "qemu:///system"
IMAGES = "/var/lib/libvirt/images"


@pytest.fixture
def qemu_conn():
    try:
        return connection.get(QEMU_URI)
    except VirtError as exc:
        pytest.skip(f"libvirtd's QEMU driver does not answer here: {exc}")


@pytest.fixture(params=["kvm", "qemu"], ids=["kvm", "tcg"])
def tiny_domain(request, qemu_conn):
    virt_type = request.param
    if virt_type == "kvm" and domains.best_virt_type(qemu_conn) != "kvm":
        pytest.skip("KVM is not usable on this host; the TCG run covers it")
    name = unique("kvmweb-test")
    image = f"{IMAGES}/{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "64M"], check=True)
    spec = Domain(
        name=name,
        memory_mib=96,
        vcpus=1,
        domain_type=virt_type,
        uuid=str(uuid.uuid4()),
        acpi=True,
        disks=[Disk(source=image)],
        graphics=[Graphics(type="vnc", listen="127.0.0.1")],
    )
    dom_uuid = domains.define(qemu_conn, spec.to_xml())
    yield name, dom_uuid
    domains.undefine(qemu_conn, dom_uuid)
    subprocess.run(["rm", "-f", image], check=False)
