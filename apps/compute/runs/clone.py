"""vm.clone on the worker (apps/compute/services/clone.py queues them): copy each disk through
its pool (storage's copy_volume reports the copy's bytes), copy or renew the NVRAM, define the
rewritten XML, and bring the new VM into the inventory. Anything failing on the way removes what
was made, and so does a cancel: it is checked before each disk and when each copy ends (libvirt
cannot stop a copy midway), and once more before the new VM is defined.
"""

from apps.compute.models import VirtualMachine
from apps.compute.services.clone import CLONE_TIME_LIMIT
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, lifecycle
from apps.core.errors import OperationError
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.runners import require, runner
from apps.operations.services import operation_check_cancel, operation_progress
from apps.operations.steps import operation_step
from apps.storage.models import StoragePool
from apps.storage.runs.allocation import copy_volume
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import FORMATS, Volume


def _pool_rights(op, vm):
    """storage.manage on every pool the copies read from or write to, again."""
    ids = {d["source_pool_id"] for d in op.params["disks"]} | {d["pool_id"] for d in op.params["disks"]}
    for pool in StoragePool.objects.filter(pk__in=ids).select_related("host"):
        require(op, "storage.manage", pool)


def _copy_disk(conn, op, d, pools, span, label):
    source_pool, pool = pools[d["source_pool_id"]], pools[d["pool_id"]]
    spec = Volume(
        name=d["new_name"],
        capacity=d["capacity"],
        allocation=d["allocation"] if d["allocation"] >= d["capacity"] else 0,
        format=d["format"] if d["format"] in FORMATS else "raw",
    )
    return copy_volume(
        op,
        conn,
        uri=pool.host.uri,
        pool_uuid=str(pool.uuid),
        source_name=d["source_volume"],
        xml=spec.to_xml(),
        expected=d["allocation"],
        source_pool_uuid=str(source_pool.uuid),
        span=span,
        label=label,
    ).path


# Copying big disks outlasts the default task limit.
@runner(
    "vm.clone",
    permission="vm.create",
    target=VirtualMachine,
    related=["host"],
    policy=_pool_rights,
    soft_time_limit=CLONE_TIME_LIMIT,
    cancellable=True,
)
def clone(op, vm):
    p = op.params
    ids = {d["source_pool_id"] for d in p["disks"]} | {d["pool_id"] for d in p["disks"]}
    if p.get("nvram") and p["nvram"].get("pool_id"):
        ids.add(p["nvram"]["pool_id"])
    pools = {pool.pk: pool for pool in StoragePool.objects.filter(pk__in=ids).select_related("host")}
    created, new_uuid = [], None
    with connection.connected(vm.host.uri) as conn:
        info = domains.domain_info(conn, str(vm.uuid))
        if info is None:
            raise OperationError(f"{vm.name} no longer exists.")
        if info.state != "shutoff":
            raise OperationError(f"{vm.name} is {info.state}: a VM is cloned only while it is shut off.")
        if domains.name_taken(conn, p["name"]):
            raise OperationError(f"A VM named {p['name']} already exists on {vm.host.name}.")
        xml = lifecycle.inactive_xml(conn, str(vm.uuid))
        now = {s.target: s for s in lifecycle.parse_disks(xml)}
        try:
            paths = {}
            # Each disk's share of the bar is its allocated bytes, which is what the copy moves.
            weights = [max(d["allocation"], 1) for d in p["disks"]] or [1]
            total = sum(weights)
            for i, d in enumerate(p["disks"]):
                if d["target"] not in now or not now[d["target"]].writable:
                    raise OperationError(f"{vm.name}'s disk {d['target']} changed since the clone was asked for.")
                operation_check_cancel(op, f" before copying {d['target']}")
                where = f"{pools[d['pool_id']].name}/{d['new_name']}"
                label = f"copying {d['target']} to {where} ({i + 1} of {len(p['disks'])})"
                operation_step(op, f"Copying {d['target']} ({human(d['allocation'])} allocated) to {where}.")
                span = (5 + 85 * sum(weights[:i]) / total, 5 + 85 * sum(weights[: i + 1]) / total)
                # copy_volume leaves nothing behind when it fails or is cancelled; only a finished
                # copy is this clone's to remove (a name clash must not delete someone's volume).
                paths[d["target"]] = _copy_disk(conn, op, d, pools, span, label)
                created.append((pools[d["pool_id"]], d["new_name"]))
            operation_check_cancel(op, " before the new VM was defined")
            operation_progress(op, 92, f"defining {p['name']}")
            nvram, nvram_note = _nvram(conn, p, pools, created)
            taken = lifecycle.used_macs(conn)
            macs = [lifecycle.new_mac(taken) for _ in range(lifecycle.interface_count(xml))]
            new_xml = lifecycle.clone_xml(xml, name=p["name"], disks=paths, macs=macs, nvram=nvram)
            new_uuid = domains.define(conn, new_xml)
            new_vm = vm_inventory_apply(host=vm.host, uuid=new_uuid, info=domains.domain_info(conn, new_uuid))
            VirtualMachine.objects.filter(pk=new_vm.pk).update(team_id=p.get("team_id"), disk_bytes=p["disk_bytes"])
        except BaseException:
            if new_uuid:
                lifecycle.undefine_quietly(conn, new_uuid)
                # A row for a VM that never came to be would only mislead (and count in quotas).
                VirtualMachine.objects.filter(host=vm.host, uuid=new_uuid).delete()
            for pool, name in created:
                volume_virt.delete_quietly(conn, str(pool.uuid), name)
            for pool in pools.values():
                refresh_quietly(conn, pool)
            raise
        for pool in pools.values():
            refresh_quietly(conn, pool)
    op.params = {**p, "vm_id": new_vm.pk, "macs": macs}
    op.save(update_fields=["params"])
    copied = ", ".join(f"{d['target']} → {d['new_name']}" for d in p["disks"]) or "no disks to copy"
    return f"{vm.name} cloned as {p['name']} ({copied}; new MACs {', '.join(macs) or 'none'}{nvram_note})"


def _nvram(conn, p, pools, created):
    """The clone's UEFI variable store: a copy through its pool when it lives in one, otherwise
    a fresh one libvirt makes from the firmware's template at first start."""
    nv = p.get("nvram")
    if not nv:
        return None, ""
    if not nv.get("pool_id"):
        return "", "; NVRAM: a fresh one from the firmware template (the source's is in no pool kvmweb manages)"
    pool = pools[nv["pool_id"]]
    spec = Volume(name=nv["new_name"], capacity=max(nv.get("capacity") or 0, 1), format="raw")
    info = volume_virt.clone(conn, str(pool.uuid), nv["source_volume"], spec.to_xml())
    created.append((pool, nv["new_name"]))
    return info.path, f"; NVRAM copied to {info.path}"
