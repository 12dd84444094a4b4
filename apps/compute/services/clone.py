"""Clone a VM as `virt-clone` does: a new name and UUID, new MACs, and a full copy of every
writable disk made through its pool (read-only disks and CD-ROMs are shared, not copied).

Like virt-clone (whose manual says "This guest must be shut off") the source must be shut off:
a running or paused guest has writes in flight and QEMU holds its images' write locks, so a copy
would be inconsistent or refused. The clone's XML is the source's inactive XML rewritten
(apps/compute/virt/lifecycle.clone_xml). A failed clone removes what it made.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.accounts.models import Team
from apps.audit import registry
from apps.authz.rights import authorize, may
from apps.compute.models import VirtualMachine
from apps.compute.names import vm_name_problem
from apps.compute.quotas import GIB, QuotaExceeded, quota_check, team_required
from apps.compute.virt import domains, lifecycle
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.services import (
    operation_queue,
)
from apps.storage.models import StoragePool, StorageVolume

registry.register("vm.clone", "cloned VM")

CLONE_TIME_LIMIT = 6 * 3600  # seconds: a clone copies whole disks
_KEEP_SUFFIX = (".qcow2", ".img", ".raw", ".qed", ".vmdk", ".vdi", ".iso")


class CloneError(ValueError):
    """Input the clone cannot go ahead with; the message is for the form. Nothing was changed."""


def validate_vm_name(name):
    problem = vm_name_problem(name)
    if problem:
        raise CloneError(problem)
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
    authorize(actor, "vm.create", vm)
    validate_vm_name(name)
    _check_source(vm)
    if VirtualMachine.objects.filter(host=vm.host, name=name, present=True).exists():
        raise CloneError(f"A VM named {name} already exists on {vm.host.name}.")
    if team is None:
        team = vm.team
    elif team not in team_choices(actor, vm):
        raise PermissionDenied("You may not put VMs in that team.")
    try:
        team_required(actor, team)
    except QuotaExceeded as exc:
        raise CloneError(str(exc)) from None
    pools = pools or {}
    with connection.connected(vm.host.uri) as conn:
        if domains.name_taken(conn, name):  # defined on the host, maybe not yet in the inventory
            raise CloneError(f"A VM named {name} already exists on {vm.host.name}.")
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
        vcpus = max(vm.vcpus, vm.max_vcpus)
        quota_check(team, vms=1, vcpus=vcpus, memory_mib=vm.max_memory_kib // 1024, disk_gib=capacity / GIB)
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
    }
    with transaction.atomic():
        return operation_queue(
            actor=actor, kind="vm.clone", target=vm, params=params)


def pools_for_copies(actor, vm):
    """Active pools on the VM's host the user may create volumes in: the clone form's choices."""
    return [
        p
        for p in StoragePool.objects.filter(host=vm.host, present=True, state="running").select_related("host")
        if may(actor, "storage.manage", p)
    ]
