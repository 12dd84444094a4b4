"""Attaching a volume hands its contents to a VM: it needs a right to use the pool, and a volume
another VM has is refused unless marked shareable (issue: teams stay apart, item 3)."""

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from apps.accounts.services import grant_add, role_create
from apps.audit.models import AuditEvent
from apps.compute.services import disks as disk_services
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from tests.helpers import TEST_URI, created_domains, make_vm, unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(demo_host, test_driver):
    uuid = test_driver.storagePoolLookupByName("default-pool").UUIDString()
    return pool_refresh_inventory(test_driver, demo_host, uuid)


@pytest.fixture
def editor(outsider, demo_host):
    """May edit VMs on the demo host and see (not use) its pools: a VM user of another team."""
    role_create(actor=None, name="Editor", permissions=["vm.view", "vm.edit", "storage.view"])
    grant_add(actor=None, user=outsider, role="Editor", scope=demo_host)
    return outsider


def _volume(pool, path):
    return StorageVolume.objects.create(pool=pool, name=path.rsplit("/", 1)[1], key=path, path=path, format="qcow2")


def test_seeing_a_pool_is_not_enough_to_attach_its_volume(demo_host, pool, editor):
    vm = make_vm(demo_host, name=unique("mine"))
    victim = make_vm(demo_host, name=unique("payroll"))
    volume = _volume(pool, f"/var/lib/libvirt/images/{victim.name}.qcow2")
    client = Client()
    client.force_login(editor)
    url = reverse("compute:vm_disk_attach", kwargs={"pk": vm.pk})
    response = client.post(url, {"volume": volume.pk, "bus": "virtio", "scope": "config"})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(actor=editor, outcome="denied")
    assert denied.params == {"permission": "storage.use"}


def test_a_volume_another_vm_has_is_refused_on_the_worker(demo_host, pool, operator, test_driver):
    vm = make_vm(demo_host, name=unique("mine"))
    other = make_vm(demo_host, name=unique("theirs"))
    volume = _volume(pool, f"/var/lib/libvirt/images/{other.name}.qcow2")
    op = operation_run(disk_services.vm_disk_attach(actor=operator, vm=vm, volume=volume, live=False).pk)
    assert op.status == "failed"
    assert (
        op.error
        == f"{volume.path} is a disk of {other.name}; a volume is attached to one VM at a time unless marked shareable."
    )


def test_a_volume_marked_shareable_by_its_vm_passes_that_check(demo_host, pool, operator, test_driver):
    vm = make_vm(demo_host, name=unique("mine"))
    name = unique("cluster")
    path = f"/var/lib/libvirt/images/{name}.raw"
    xml = (
        f"<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
        f"<devices><disk type='file' device='disk'><source file='{path}'/><target dev='vda'/><shareable/></disk>"
        "</devices></domain>"
    )
    created_domains.append(test_driver.defineXML(xml).UUIDString())
    volume = _volume(pool, path)
    op = operation_run(disk_services.vm_disk_attach(actor=operator, vm=vm, volume=volume, live=False).pk)
    # Past the check, the test driver itself cannot attach devices (QEMU can: tests/real).
    assert op.status == "failed" and "a disk of" not in op.error
    assert "shareable" in etree.tostring(etree.fromstring(test_driver.lookupByName(name).XMLDesc(0))).decode()


def test_a_right_to_use_the_pool_is_enough(demo_host, pool, editor, test_driver):
    grant_add(actor=None, user=editor, role="Operator", scope=pool)
    vm = make_vm(demo_host, name=unique("mine"))
    volume = _volume(pool, f"/default-pool/{unique('free')}.qcow2")
    op = disk_services.vm_disk_attach(actor=editor, vm=vm, volume=volume, live=False)
    assert op.kind == "vm.disk_attach" and op.params["volume_name"] == volume.name
    assert TEST_URI


def test_hand_written_xml_cannot_take_another_vms_disk_either(demo_host, pool, operator, test_driver):
    from apps.compute.services.create import vm_define_xml

    other = make_vm(demo_host, name=unique("theirs"))
    path = f"/var/lib/libvirt/images/{other.name}.qcow2"
    _volume(pool, path)
    name = unique("thief")
    xml = (
        f"<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        f"<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>"
        f"<driver name='qemu' type='qcow2'/><source file='{path}'/><target dev='vda' bus='virtio'/></disk>"
        "</devices></domain>"
    )
    op = vm_define_xml(actor=operator, host=demo_host, xml=xml, name=name, vcpus=1, memory_mib=64)
    op = operation_run(op.pk)
    assert op.status == "failed" and f"is a disk of {other.name}" in op.error
    assert name not in [d.name() for d in test_driver.listAllDomains()]


# -- the worker checks again (issue: teams stay apart, item 3) -----------------------------------


def test_importing_at_create_a_volume_another_vm_has_is_refused_on_the_worker(demo_host, pool, operator, test_driver):
    from apps.compute.services.create import create_plan, vm_create

    other = make_vm(demo_host, name=unique("theirs"))
    volume = _volume(pool, f"/var/lib/libvirt/images/{other.name}.qcow2")
    name = unique("importer")
    # The request side offers no volume in use; the domain could have taken it since the form.
    params = create_plan(actor=operator, host=demo_host, name=name, memory_mib=64, vcpus=1, source="import",
                         import_volume=volume, graphics="none")  # fmt: skip
    op = operation_run(vm_create(actor=operator, host=demo_host, params=params).pk)
    assert op.status == "failed"
    assert (
        op.error
        == f"{volume.path} is a disk of {other.name}; a volume is attached to one VM at a time unless marked shareable."
    )
    assert name not in [d.name() for d in test_driver.listAllDomains()]


def test_a_right_on_the_pool_revoked_while_an_attach_waits_is_refused_on_the_worker(demo_host, pool, editor):
    from apps.authz.models import Grant

    grant = grant_add(actor=None, user=editor, role="Operator", scope=pool)
    vm = make_vm(demo_host, name=unique("mine"))
    volume = _volume(pool, f"/default-pool/{unique('spare')}.qcow2")
    op = disk_services.vm_disk_attach(actor=editor, vm=vm, volume=volume, live=False)
    Grant.objects.filter(pk=grant.pk).delete()
    op = operation_run(op.pk)
    assert op.status == "failed"
    assert op.error == "You may not attach volumes of pools to virtual machines here."
    denied = AuditEvent.objects.get(actor=editor, outcome="denied")
    assert (denied.params, denied.target_type, denied.target_id) == ({"permission": "storage.use"}, "pool", str(pool.pk))
    assert volume.path not in _disks_of(vm)


def _disks_of(vm):
    from apps.compute.virt import disks
    from apps.hosts.virt import connection

    return [d.source for d in disks.list_disks(connection.get(TEST_URI), str(vm.uuid), inactive=True)]
