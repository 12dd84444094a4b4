"""Clone a VM as `virt-clone` does: a new name and UUID, new MACs, and a full copy of every
writable disk made through its pool (read-only disks and CD-ROMs are shared, not copied).

Like virt-clone (whose manual says "This guest must be shut off") the source must be shut off:
a running or paused guest has writes in flight and QEMU holds its images' write locks, so a copy
would be inconsistent or refused. The clone's XML is the source's inactive XML rewritten
(apps/compute/virt/lifecycle.clone_xml). A failed clone removes what it made.
"""

import re
import threading
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction

from apps.accounts.authz import authorize, may
from apps.accounts.models import Team
from apps.audit import registry
from apps.compute.models import VirtualMachine
from apps.compute.quotas import GIB, QuotaExceeded, quota_check
from apps.compute.virt import domains, lifecycle
from apps.core.templatetags.kvm import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.services import (
    OperationCancelled,
    OperationError,
    operation_cancel_requested,
    operation_progress,
    operation_queue,
)
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import FORMATS, Volume

from .inventory import vm_inventory_apply

registry.register("vm.clone", "cloned VM")

# Letters, digits, '.', '_' and '-', starting with a letter or digit: a name that is also a safe
# file name (the clone's volumes are named after it) and needs no quoting in virsh.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
NAME_MAX = 64
CLONE_TIME_LIMIT = 6 * 3600  # seconds: a clone copies whole disks
_KEEP_SUFFIX = (".qcow2", ".img", ".raw", ".qed", ".vmdk", ".vdi", ".iso")


class CloneError(ValueError):
    """Input the clone cannot go ahead with; the message is for the form. Nothing was changed."""


def validate_vm_name(name):
    if not isinstance(name, str) or not name.strip():
        raise CloneError("Give the new VM a name.")
    if len(name) > NAME_MAX:
        raise CloneError(f"A VM name can be at most {NAME_MAX} characters long.")
    if ".." in name:
        raise CloneError("A VM name cannot contain '..'.")
    if not _NAME.match(name):
        raise CloneError(
            "A VM name may use only letters, digits, '.', '_' and '-', and starts with a letter or digit "
            "(no spaces, slashes, quotes or '<')."
        )
    return name


@dataclass
class PlannedDisk:
    spec: lifecycle.DiskSpec
    volume: StorageVolume | None  # the pool volume that holds it, when a known pool does

    @property
    def copied(self):
        return self.spec.writable


@dataclass
class ClonePlan:
    xml: str
    disks: list[PlannedDisk] = field(default_factory=list)
    nvram: str = ""
    nvram_volume: StorageVolume | None = None

    @property
    def copied(self):
        return [d for d in self.disks if d.copied]

    @property
    def shared(self):
        return [d for d in self.disks if not d.copied]


def volume_for(host, spec_or_path):
    """The inventory's volume for a disk (by path, or by pool/volume for type="volume" disks)."""
    qs = StorageVolume.objects.select_related("pool__host").filter(pool__host=host, pool__present=True)
    if isinstance(spec_or_path, str):
        return qs.filter(path=spec_or_path).first() if spec_or_path else None
    spec = spec_or_path
    if spec.volume:
        return qs.filter(pool__name=spec.pool, name=spec.volume).first()
    return qs.filter(path=spec.path).first() if spec.path else None


def clone_plan(conn, vm) -> ClonePlan:
    """What cloning this VM would copy and share, from its inactive XML (one libvirt read)."""
    xml = lifecycle.inactive_xml(conn, str(vm.uuid))
    plan = ClonePlan(xml=xml, nvram=lifecycle.nvram_path(xml))
    for spec in lifecycle.parse_disks(xml):
        plan.disks.append(PlannedDisk(spec, volume_for(vm.host, spec) if spec.writable else None))
    if plan.nvram:
        plan.nvram_volume = volume_for(vm.host, plan.nvram)
    return plan


def team_choices(actor, vm):
    """Teams the clone may belong to: the source's, the user's own, or any for administrators."""
    if actor.is_superuser:
        return list(Team.objects.all())
    teams = {t.pk: t for t in actor.teams.all()}
    if vm.team is not None:
        teams.setdefault(vm.team_id, vm.team)
    return sorted(teams.values(), key=lambda t: t.name)


def new_volume_name(clone_name, source_name, target):
    """web02-vda.qcow2 for the vda of web01.qcow2: the clone's name, the disk, the old suffix."""
    suffix = next((s for s in _KEEP_SUFFIX if source_name.lower().endswith(s)), "")
    return f"{clone_name}-{target}{suffix}"


def _check_source(vm):
    if not vm.present:
        raise CloneError(f"{vm.name} no longer exists on {vm.host.name}.")
    if vm.state != "shutoff":
        raise CloneError(
            f"{vm.name} is {vm.get_state_display()}: shut it off first. Like virt-clone, a clone is made only "
            "from a shut-off VM, so its disks are copied in a consistent state."
        )


def _target_pool(actor, vm, disk, pools):
    pool = pools.get(disk.spec.target) or disk.volume.pool
    if pool.host_id != vm.host_id:
        raise CloneError(f"Pool {pool.name} is on another host.")
    if not pool.present or not pool.active:
        raise CloneError(f"Pool {pool.name} is not active: start it first.")
    authorize(actor, "storage.manage", pool)
    return pool


def vm_clone(*, actor, vm, name, team=None, pools=None):
    """Queue a clone of `vm` named `name`. `pools` maps a disk target (vda) to the StoragePool its
    copy goes to (default: the pool it is in); `team` defaults to the source's team."""
    from apps.compute.tasks.lifecycle import vm_clone_task

    authorize(actor, "vm.create", vm)
    validate_vm_name(name)
    _check_source(vm)
    if VirtualMachine.objects.filter(host=vm.host, name=name, present=True).exists():
        raise CloneError(f"A VM named {name} already exists on {vm.host.name}.")
    if team is None:
        team = vm.team
    elif team not in team_choices(actor, vm):
        raise PermissionDenied("You may not put VMs in that team.")
    pools = pools or {}
    with connection.connected(vm.host.uri) as conn:
        plan = clone_plan(conn, vm)
    disks, capacity = [], 0
    for disk in plan.copied:
        if disk.volume is None:
            raise CloneError(
                f"Disk {disk.spec.target} ({disk.spec.path or disk.spec.volume}) is not in a known storage pool: "
                "kvmweb copies disks only through a pool. Define a pool for its directory, or detach it first."
            )
        authorize(actor, "storage.manage", disk.volume.pool)
        pool = _target_pool(actor, vm, disk, pools)
        new_name = new_volume_name(name, disk.volume.name, disk.spec.target)
        if StorageVolume.objects.filter(pool=pool, name=new_name).exists():
            raise CloneError(f"Pool {pool.name} already has a volume named {new_name}.")
        if pool.capacity and disk.volume.allocation > pool.available:
            raise CloneError(
                f"Copying {disk.spec.target} needs about {human(disk.volume.allocation)}; pool {pool.name} has "
                f"{human(pool.available)} free."
            )
        capacity += disk.volume.capacity
        disks.append(
            {
                "target": disk.spec.target,
                "path": disk.volume.path,
                "source_pool_id": disk.volume.pool_id,
                "source_volume": disk.volume.name,
                "pool_id": pool.pk,
                "new_name": new_name,
                "format": disk.volume.format or disk.spec.format or "raw",
                "capacity": disk.volume.capacity,
                "allocation": disk.volume.allocation,
            }
        )
    try:
        quota_check(team, vms=1, vcpus=vm.vcpus, memory_mib=vm.max_memory_kib // 1024, disk_gib=capacity / GIB)
    except QuotaExceeded as exc:
        raise CloneError(str(exc)) from None
    nvram = None
    if plan.nvram:
        vol = plan.nvram_volume
        nvram = {"path": plan.nvram}
        if vol is not None and vol.pool.active and may(actor, "storage.manage", vol.pool):
            nvram.update(pool_id=vol.pool_id, source_volume=vol.name, new_name=f"{name}_VARS.fd", capacity=vol.capacity)
    params = {
        "name": name,
        "team_id": team.pk if team else None,
        "disks": disks,
        "shared": [d.spec.path for d in plan.shared if d.spec.path],
        "nvram": nvram,
        "disk_bytes": capacity,
        "time_limit": CLONE_TIME_LIMIT,
    }
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind="vm.clone", target=vm, params=params, task=vm_clone_task, queue=vm.host.queue
        )


def pools_for_copies(actor, vm):
    """Active pools on the VM's host the user may create volumes in: the clone form's choices."""
    return [
        p
        for p in StoragePool.objects.filter(host=vm.host, present=True, state="running").select_related("host")
        if may(actor, "storage.manage", p)
    ]


# -- the worker side -------------------------------------------------------------------------


class _CopyWatcher(threading.Thread):
    """Reports a copy's progress while createXMLFrom blocks: libvirt gives no progress for it, so
    the new volume's allocation is read once a second and set against the source's."""

    def __init__(self, report, read_allocation, expected):
        super().__init__(daemon=True)
        self.report, self.read_allocation, self.expected = report, read_allocation, max(expected, 1)
        self.done = threading.Event()

    def run(self):
        try:
            while not self.done.wait(1.0):
                allocation = self.read_allocation()
                if allocation is not None:
                    self.report(min(1.0, allocation / self.expected))
        except Exception:  # noqa: BLE001 — progress is a nicety; the copy's own result decides
            pass
        finally:
            db_connection.close()  # this thread's own database connection

    def stop(self):
        self.done.set()
        self.join(timeout=5)


def _worker_checks(op, vm):
    if op.actor is None:
        if op.actor_name:
            raise OperationError("The user who asked for this no longer exists.")
        return
    authorize(op.actor, "vm.create", vm)
    ids = {d["source_pool_id"] for d in op.params["disks"]} | {d["pool_id"] for d in op.params["disks"]}
    for pool in StoragePool.objects.filter(pk__in=ids).select_related("host"):
        authorize(op.actor, "storage.manage", pool)


def _copy_disk(conn, op, d, pools, progress):
    source_pool, pool = pools[d["source_pool_id"]], pools[d["pool_id"]]
    spec = Volume(
        name=d["new_name"],
        capacity=d["capacity"],
        allocation=d["allocation"] if d["allocation"] >= d["capacity"] else 0,
        format=d["format"] if d["format"] in FORMATS else "raw",
    )

    def allocation():
        info = volume_virt.volume_info(conn, str(pool.uuid), d["new_name"])
        return info.allocation if info else None

    watcher = _CopyWatcher(progress, allocation, d["allocation"])
    watcher.start()
    try:
        if source_pool.pk == pool.pk:
            return volume_virt.clone(conn, str(pool.uuid), d["source_volume"], spec.to_xml()).path
        return lifecycle.copy_volume(conn, str(source_pool.uuid), d["source_volume"], str(pool.uuid), spec.to_xml())
    finally:
        watcher.stop()


def vm_clone_execute(op):
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    _worker_checks(op, vm)
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
        if lifecycle.name_taken(conn, p["name"]):
            raise OperationError(f"A VM named {p['name']} already exists on {vm.host.name}.")
        xml = lifecycle.inactive_xml(conn, str(vm.uuid))
        now = {s.target: s for s in lifecycle.parse_disks(xml)}
        try:
            paths = {}
            weights = [max(d["allocation"], 1) for d in p["disks"]] or [1]
            for i, d in enumerate(p["disks"]):
                if d["target"] not in now or not now[d["target"]].writable:
                    raise OperationError(f"{vm.name}'s disk {d['target']} changed since the clone was asked for.")
                if cancelled := operation_cancel_requested(op):
                    raise OperationCancelled(f"Cancelled by {cancelled} before copying {d['target']}.")
                done = sum(weights[:i])
                label = f"copying {d['target']} to {pools[d['pool_id']].name}/{d['new_name']} ({i + 1} of {len(p['disks'])})"

                def progress(fraction, done=done, w=weights[i], label=label):
                    operation_progress(op, 5 + 85 * (done + fraction * w) / sum(weights), label)

                progress(0)
                paths[d["target"]] = _copy_disk(conn, op, d, pools, progress)
                created.append((pools[d["pool_id"]], d["new_name"]))
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
