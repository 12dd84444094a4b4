"""Events that are no lifecycle change reach an open page: the monitor listens for block jobs,
tray changes, balloon changes, reboots, jobs completed, disk changes and migration iterations, and
for pools being refreshed. Here a block job run with virsh on a tiny real QEMU domain tells an open
socket to re-read the VM, and a pool refreshed with virsh brings a volume copied into it outside
kvmweb into the inventory, with no tick in between."""

import asyncio
import shutil
import subprocess

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from apps.compute.models import VirtualMachine
from apps.hosts.services import host_create
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.virt import pools
from apps.storage.virt.pool_xml import Pool, Target
from kvmweb.asgi import application
from tests.consoles.rfb_client import headers_for
from tests.helpers import QEMU_URI, unique, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.django_db(transaction=True)]


def _virsh(*args):
    return subprocess.run(["virsh", "-c", QEMU_URI, *args], capture_output=True, text=True, check=True).stdout


def test_a_block_job_ended_outside_kvmweb_reaches_an_open_page(stack, qemu_conn, tiny_domain, admin):
    name, dom_uuid = tiny_domain
    host = host_create(actor=None, name="local", uri=QEMU_URI)
    _virsh("start", name)
    vm = wait_for(
        lambda: VirtualMachine.objects.filter(host=host, uuid=dom_uuid, state="running").first(),
        timeout=30,
        message="the monitor to list the domain as running",
    )
    headers = headers_for(admin)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        # A block pull of a disk without a backing file starts and completes at once.
        await asyncio.to_thread(_virsh, "blockpull", name, "vda", "--wait")
        while True:
            html = await comm.receive_from(timeout=20)
            if f'data-vm="{vm.pk}" data-change="block_job"' in html:
                await comm.disconnect()
                return html

    assert "kv-vm-changed" in async_to_sync(scenario)()


def test_a_pool_refreshed_outside_kvmweb_updates_its_volumes(stack, qemu_conn):
    name = unique("kvmweb-events")
    path = f"/var/lib/libvirt/{name}"
    pool_uuid = pools.define(qemu_conn, Pool(type="dir", name=name, target=Target(path=path)).to_xml())
    try:
        pools.act(qemu_conn, pool_uuid, "build")
        pools.act(qemu_conn, pool_uuid, "start")
        host = host_create(actor=None, name="local", uri=QEMU_URI)
        pool = wait_for(
            lambda: StoragePool.objects.filter(host=host, uuid=pool_uuid, state="running").first(),
            timeout=30,
            message="the monitor to list the pool",
        )
        shutil.copyfile("/dev/null", f"{path}/copied-outside.img")
        _virsh("pool-refresh", name)  # volumes have no events of their own; the pool's refresh does
        wait_for(
            lambda: StorageVolume.objects.filter(pool=pool, name="copied-outside.img").exists(),
            timeout=10,
            message="the refreshed pool's new volume in the inventory",
        )
    finally:
        pools.undefine_quietly(qemu_conn, pool_uuid)
        subprocess.run(["rm", "-rf", path], check=False)
