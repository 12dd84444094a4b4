"""The screen thumbnails' worker side: a beat tick that hands each up host its share, the
host's refresh on that host's queue (where its libvirt connection lives), and one VM on demand.

Each message expires with the tick it belongs to: a worker that falls behind skips old ticks
rather than taking the same screenshots twice."""

from celery import shared_task

from apps.compute.models import VirtualMachine
from apps.hosts.models import Host, HostState

from . import screens


@shared_task(name=screens.TICK_TASK, ignore_result=True)
def screens_tick():
    for host in Host.objects.filter(state=HostState.UP).only("pk"):
        screens_host.apply_async(args=[host.pk], queue=host.queue, expires=screens.TICK)


@shared_task(name=screens.HOST_TASK, ignore_result=True, soft_time_limit=screens.TICK, time_limit=screens.TICK + 15)
def screens_host(host_id):
    host = Host.objects.filter(pk=host_id, state=HostState.UP).first()
    if host is not None:
        screens.refresh_host(host)


@shared_task(name=screens.VM_TASK, ignore_result=True, soft_time_limit=20, time_limit=30)
def screen_vm(vm_id):
    vm = VirtualMachine.objects.select_related("host").filter(pk=vm_id).first()
    if vm is not None:
        screens.refresh_vm(vm, force=True)
