"""A volume of an rbd or gluster pool attaches as libvirt wants it — a network disk with the pool's
hosts and auth — not as `<disk type='file'>` with a path that is no file (issue 8, typed XML)."""

import subprocess

import pytest
from lxml import etree

from apps.compute import services
from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains
from apps.hosts.services import host_create
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import pools as pool_virt
from tests.helpers import QEMU_URI, unique

pytestmark = [pytest.mark.qemu, pytest.mark.django_db]

RBD = """<pool type='rbd'><name>{name}</name><source><host name='mon1.example' port='6789'/>
<host name='mon2.example'/><name>rbdpool</name><auth type='ceph' username='admin'>
<secret usage='client.admin secret'/></auth></source></pool>"""
GLUSTER = """<pool type='gluster'><name>{name}</name><source><host name='gluster1.example'/>
<dir path='/vms'/><name>gv0</name></source></pool>"""


@pytest.fixture
def local(qemu_conn):
    return host_create(actor=None, name="local", uri=QEMU_URI)


@pytest.fixture
def shut_off_vm(local, tiny_domain, qemu_conn):
    name, dom_uuid = tiny_domain
    return vm_inventory_apply(host=local, uuid=dom_uuid, info=domains.domain_info(qemu_conn, dom_uuid))


@pytest.fixture
def network_pool(qemu_conn, local):
    """Define (not start: nothing serves it here) a pool of the given XML; yields its row."""
    made = []

    def make(template):
        uuid = pool_virt.define(qemu_conn, template.format(name=unique("kvmweb-test-net")))
        made.append(uuid)
        return pool_refresh_inventory(qemu_conn, local, uuid)

    yield make
    for uuid in made:
        pool_virt.undefine_quietly(qemu_conn, uuid)


def _saved_disks(name):
    xml = subprocess.run(
        ["virsh", "-c", QEMU_URI, "dumpxml", "--inactive", name], capture_output=True, text=True, check=True
    ).stdout
    return etree.fromstring(xml.encode()).findall("devices/disk")


def _attach(operator, vm, pool, volume_name, key):
    volume = StorageVolume.objects.create(pool=pool, name=volume_name, key=key, path=key, format="raw")
    op = services.vm_disk_attach(actor=operator, vm=vm, volume=volume, live=False, config=True)
    op = operation_run(op.pk)
    assert op.status == "succeeded", op.error
    return next(d for d in _saved_disks(vm.name) if d.find("source[@protocol]") is not None)


def test_an_rbd_volume_attaches_as_a_ceph_network_disk(operator, shut_off_vm, network_pool):
    pool = network_pool(RBD)
    disk = _attach(operator, shut_off_vm, pool, "data1", "rbdpool/data1")
    source = disk.find("source")
    assert disk.get("type") == "network"
    assert (source.get("protocol"), source.get("name")) == ("rbd", "rbdpool/data1")
    assert [(h.get("name"), h.get("port")) for h in source.findall("host")] == [
        ("mon1.example", "6789"),
        ("mon2.example", None),
    ]
    auth = source.find("auth") if source.find("auth") is not None else disk.find("auth")
    assert auth.get("username") == "admin"
    assert auth.find("secret").get("type") == "ceph" and auth.find("secret").get("usage") == "client.admin secret"
    assert disk.find("target").get("dev") == "vdb"
    assert not VirtualMachine.objects.filter(pk=shut_off_vm.pk, state="running").exists()


def test_a_gluster_volume_attaches_as_a_gluster_network_disk(operator, shut_off_vm, network_pool):
    pool = network_pool(GLUSTER)
    disk = _attach(operator, shut_off_vm, pool, "data1.img", "gluster://gluster1.example/gv0/vms/data1.img")
    source = disk.find("source")
    assert disk.get("type") == "network"
    assert (source.get("protocol"), source.get("name")) == ("gluster", "gv0/vms/data1.img")
    assert [h.get("name") for h in source.findall("host")] == ["gluster1.example"]
