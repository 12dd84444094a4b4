"""What the clone and delete tests share: the test driver's pool in the inventory, and a source VM
with volumes in it, a CD-ROM and a NIC. Test modules import `test_pool` (the fixture "pool")."""

import pytest

from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Interface
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume
from tests.helpers import created_domains, unique

MiB = 1 << 20
POOL = "default-pool"


@pytest.fixture(name="pool")
def test_pool(demo_host, test_driver):
    uuid = test_driver.storagePoolLookupByName(POOL).UUIDString()
    pool = pool_refresh_inventory(test_driver, demo_host, uuid)
    yield pool
    for info in volume_virt.list_volumes(test_driver, uuid):
        if info.name.startswith("lc-"):
            volume_virt.delete_quietly(test_driver, uuid, info.name)


def make_source(host, pool, conn, *, disks=1, start=False, name=None):
    """A test-driver VM with `disks` qcow2 volumes in the pool, a CD-ROM and one NIC."""
    name = name or unique("lc")
    specs = []
    for i in range(disks):
        vol = volume_virt.create(
            conn, str(pool.uuid), Volume(name=f"{name}-{i}.qcow2", capacity=8 * MiB, format="qcow2").to_xml()
        )
        specs.append(Disk(source=vol.path, target=f"vd{'abc'[i]}"))
    specs.append(Disk(source="/isos/debian.iso", target="sda", bus="sata", device="cdrom", format="raw"))
    spec = Domain(
        name=name,
        memory_mib=128,
        vcpus=2,
        domain_type="test",
        disks=specs,
        interfaces=[Interface(network="default", mac="52:54:00:aa:bb:01")],
    )
    uuid = domains.define(conn, spec.to_xml())
    created_domains.append(uuid)
    if start:
        domains.power(conn, uuid, "start")
    pool_refresh_inventory(conn, host, str(pool.uuid))
    return vm_inventory_apply(host=host, uuid=uuid, info=domains.domain_info(conn, uuid))
