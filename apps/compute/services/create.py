"""New VMs: the create wizard (virt-install's parity) and "define from XML".

`create_plan` checks everything the request can know — the name rule, the host's limits, rights on
each pool, volume and ISO, the team's quota, duplicate names — and raises CreateError(field,
message) for the form; it returns the operation's params, from which create_xml builds the preview
and the worker builds the same document. `vm_create` / `vm_define_xml` queue the operation; the
worker side is in create_run.

Name rule: libvirt itself refuses only "/" and control characters, but a VM's name becomes file
names (/etc/libvirt/qemu/NAME.xml, logs, NVRAM NAME_VARS.fd, our NAME.qcow2 volume), `virsh`
arguments people type, QEMU's -name option and often a host name. So kvmweb keeps to what is safe
in all of them: 1–64 ASCII letters, digits, ".", "_" and "-", starting with a letter or digit.
Spaces, quotes, <, &, /, "..", unicode and longer names get a form error saying so.
"""

import ipaddress
import re
import uuid as uuidlib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.models import VirtualMachine
from apps.compute.names import vm_name_problem
from apps.compute.quotas import QuotaExceeded, quota_check, team_required
from apps.compute.services.create_xml import SOURCES, os_entry
from apps.compute.virt import xmledit
from apps.hosts.virt import capabilities, connection
from apps.network.access import authorize_use as authorize_network_use
from apps.network.models import VirtualNetwork
from apps.operations.models import Operation
from apps.operations.services import operation_queue
from apps.storage.access import authorize_use

registry.register("vm.create", "created VM")
registry.register("vm.define", "defined VM from XML")

MIN_MEMORY_MIB = 16
GIB = 1 << 30
# Pools whose volumes are files or block devices a <disk> can point at by path.
DISK_POOL_TYPES = ("dir", "fs", "netfs", "logical", "zfs")
DISK_FORMATS = ("qcow2", "raw")


class CreateError(ValueError):
    """Input the request cannot be done with; `field` names the form field ("" for the form)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def check_name(name):
    problem = vm_name_problem(name)
    if problem:
        raise CreateError("name", problem)
    return name


def check_unique(host, name):
    if VirtualMachine.objects.filter(host=host, name=name, present=True).exists():
        raise CreateError("name", f"A VM named {name} already exists on {host.name}.")
    busy = Operation.objects.filter(
        host_id=host.pk, kind__in=["vm.create", "vm.define", "vm.clone"], params__name=name
    ).filter(status__in=["queued", "running"])
    if busy.exists():
        raise CreateError("name", f"A VM named {name} is being created on {host.name} right now.")


def _may(actor, permission, obj, field, message):
    try:
        authorize(actor, permission, obj)
    except PermissionDenied:
        raise CreateError(field, message) from None


def check_size(host, limits, memory_mib, vcpus):
    if not memory_mib or memory_mib < MIN_MEMORY_MIB:
        raise CreateError("memory_mib", f"Give at least {MIN_MEMORY_MIB} MiB of memory.")
    if host.memory_kib and memory_mib > host.memory_kib // 1024:
        raise CreateError("memory_mib", f"{host.name} has only {host.memory_kib // 1024} MiB of memory.")
    if not vcpus or vcpus < 1:
        raise CreateError("vcpus", "Give at least 1 vCPU.")
    if host.cpus and vcpus > host.cpus:
        raise CreateError("vcpus", f"{host.name} has {host.cpus} CPUs; a VM cannot have more vCPUs than that here.")
    if limits.max_vcpus and vcpus > limits.max_vcpus:
        raise CreateError("vcpus", f"The hypervisor allows at most {limits.max_vcpus} vCPUs.")


def _volume_on(host, volume, field, what):
    if volume is None:
        raise CreateError(field, f"Choose {what}.")
    if volume.pool.host_id != host.pk or not volume.pool.present:
        raise CreateError(field, f"{volume.pool.name}/{volume.name} is not on {host.name}.")


@dataclass
class HostFacts:
    limits: capabilities.HostLimits
    networks: list


def host_facts(host) -> HostFacts:
    """What the wizard needs of the host: its domain capabilities (read from libvirt) and its
    networks (from the inventory)."""
    with connection.connected(host.uri) as conn:
        limits = capabilities.host_limits(conn)
    return HostFacts(limits=limits, networks=list(VirtualNetwork.objects.filter(host=host, present=True)))


def _check_team(actor, team):
    if team is None:
        try:
            team_required(actor, team)
        except QuotaExceeded as exc:
            raise CreateError("team", str(exc)) from None
        return
    if not actor.is_superuser and not team.members.filter(pk=actor.pk).exists():
        raise CreateError("team", f"You are not a member of team {team.name}.")


def _check_quota(actor, host, attempt, team, **sizes):
    """A team quota refuses what no right lifts: a form error, recorded as "denied"."""
    try:
        quota_check(team, **sizes, actor=actor, target=host, attempt=attempt)
    except QuotaExceeded as exc:
        raise CreateError("team", str(exc)) from None


def _check_network(actor, host, network):
    """Plugging the new VM into a libvirt network takes a right on that network (network.use),
    as a NIC added later does; refused as a form error, recorded as "denied"."""
    try:
        authorize_network_use(actor, host, network)
    except PermissionDenied as exc:
        raise CreateError("network", str(exc)) from None


def create_plan(
    *,
    actor,
    host,
    facts=None,
    name,
    memory_mib,
    vcpus,
    source,
    team=None,
    os_id="",
    iso=None,
    tree_url="",
    kernel_args="",
    import_volume=None,
    disk_pool=None,
    disk_gib=None,
    disk_format="qcow2",
    preallocate=False,
    network="",
    graphics="vnc",
    listen="127.0.0.1",
    firmware="bios",
    start=True,
):
    """Check a create request; returns the operation's params (nothing is changed)."""
    authorize(actor, "vm.create", host)
    if host.state == "down":
        raise CreateError("host", f"{host.name} is down; VMs can be created only on a host that answers.")
    facts = facts or host_facts(host)
    check_name(name)
    check_unique(host, name)
    check_size(host, facts.limits, memory_mib, vcpus)
    if os_id and os_entry(os_id) is None:
        raise CreateError("os_id", f"{os_id} is not in the osinfo database.")
    if source not in SOURCES:
        raise CreateError("source", "Choose ISO, install tree, PXE or import.")
    if firmware not in ("bios", "efi"):
        raise CreateError("firmware", "Choose BIOS or UEFI.")
    if firmware == "efi" and not facts.limits.efi:
        raise CreateError("firmware", f"{host.name} offers no UEFI firmware (no OVMF in its domain capabilities).")
    if graphics not in ("vnc", "spice", "none"):
        raise CreateError("graphics", "Choose VNC, SPICE or none.")
    try:
        listen = str(ipaddress.ip_address((listen or "").strip()))
    except ValueError:
        if graphics != "none":
            raise CreateError("listen", "Give an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0.") from None
        listen = "127.0.0.1"
    if network and network not in {n.name for n in facts.networks}:
        raise CreateError("network", f"{host.name} has no network named {network}.")
    if network and actor is not None:
        _check_network(actor, host, network)
    if source == "pxe" and not network:
        raise CreateError("network", "A network boot needs a network to boot from.")
    _check_team(actor, team)
    params = {
        "name": name,
        "uuid": str(uuidlib.uuid4()),
        "memory_mib": int(memory_mib),
        "vcpus": int(vcpus),
        "domain_type": facts.limits.domain_type,
        "arch": facts.limits.arch,
        "os_id": (os_entry(os_id).id if os_id else ""),
        "source": source,
        "network": network,
        "graphics": graphics,
        "listen": listen,
        "firmware": firmware,
        "start": bool(start),
        "team_id": team.pk if team else None,
    }
    params.update(_source_params(actor, host, source, iso, tree_url, kernel_args, import_volume))
    disk_bytes = _disk_params(actor, host, params, disk_pool, disk_gib, disk_format, preallocate)
    if source in ("iso", "tree") and not params.get("disk"):
        raise CreateError("disk_pool", "An installation needs a disk to install onto: choose a pool for a new disk.")
    _check_quota(actor, host, "vm.create", team, vms=1, vcpus=vcpus, memory_mib=memory_mib, disk_gib=disk_bytes / GIB)
    params["disk_bytes"] = disk_bytes + (params["import"]["capacity"] if params.get("import") else 0)
    return params


def _source_params(actor, host, source, iso, tree_url, kernel_args, import_volume):
    out = {}
    if source == "iso":
        _volume_on(host, iso, "iso", "an ISO image")
        if not iso.pool.is_iso_library:
            raise CreateError("iso", f"{iso.name} is not in {host.name}'s ISO library.")
        _may(actor, "storage.view", iso, "iso", f"You may not use images of pool {iso.pool.name}.")
        out["iso"] = {"path": iso.path, "name": iso.name}
    elif source == "tree":
        if not re.match(r"^https?://[^\s/]+", tree_url or "") or len(tree_url) > 1024:
            raise CreateError("tree_url", "Give the install tree's http:// or https:// URL.")
        out["tree"] = {"url": tree_url.strip()}  # the worker finds the kernel and initrd under it
    elif source == "import":
        _volume_on(host, import_volume, "import_volume", "the disk to import")
        try:
            authorize_use(actor, import_volume.pool)
        except PermissionDenied:
            raise CreateError(
                "import_volume", f"You may not attach volumes of pool {import_volume.pool.name} to VMs."
            ) from None
        out["import"] = {
            "path": import_volume.path,
            "format": import_volume.format if import_volume.format in DISK_FORMATS else "raw",
            "name": f"{import_volume.pool.name}/{import_volume.name}",
            "capacity": import_volume.capacity,
        }
    if kernel_args:
        if source != "tree":
            raise CreateError("kernel_args", "Kernel arguments apply only to an install from a tree.")
        if len(kernel_args) > 1024 or any(ord(c) < 32 for c in kernel_args):
            raise CreateError("kernel_args", "Kernel arguments are one line of at most 1024 characters.")
    out["cmdline"] = (kernel_args or "").strip()
    return out


def _disk_params(actor, host, params, pool, size_gib, fmt, preallocate):
    if pool is None:
        return 0
    if pool.host_id != host.pk or not pool.present:
        raise CreateError("disk_pool", f"Pool {pool.name} is not on {host.name}.")
    _may(actor, "storage.manage", pool, "disk_pool", f"You may not create volumes in pool {pool.name}.")
    if not pool.active:
        raise CreateError("disk_pool", f"Pool {pool.name} is not active: start it first.")
    if pool.pool_type not in DISK_POOL_TYPES:
        raise CreateError(
            "disk_pool", f"New disks go on {', '.join(DISK_POOL_TYPES)} pools; {pool.name} is {pool.pool_type}."
        )
    if fmt not in DISK_FORMATS:
        raise CreateError("disk_format", "Choose qcow2 or raw.")
    if pool.pool_type not in ("dir", "fs", "netfs"):
        fmt = "raw"  # LVM and ZFS volumes are block devices: no qcow2 there
    try:
        size = int(float(size_gib) * GIB)
    except (TypeError, ValueError):
        raise CreateError("disk_gib", "Give the disk's size in GiB.") from None
    if size < 1 << 20:
        raise CreateError("disk_gib", "A disk needs at least 1 MiB.")
    if pool.capacity and size > pool.capacity:
        raise CreateError("disk_gib", f"That is more than pool {pool.name} holds.")
    if preallocate and pool.capacity and size > pool.available:
        raise CreateError("disk_gib", f"Preallocating needs that much free space; pool {pool.name} has less.")
    vol_name = f"{params['name']}.{'qcow2' if fmt == 'qcow2' else 'img'}"
    if pool.volumes.filter(name=vol_name).exists():
        raise CreateError("disk_pool", f"Pool {pool.name} already has a volume named {vol_name}.")
    params["disk"] = {
        "pool_id": pool.pk,
        "pool_uuid": str(pool.uuid),
        "name": vol_name,
        "path": f"{pool.target_path.rstrip('/')}/{vol_name}",  # the preview's guess; the worker uses libvirt's
        "capacity": size,
        "format": fmt,
        "preallocate": bool(preallocate),
    }
    return size


class NewVM:
    """The audit/operation target of a VM that does not exist yet."""

    def __init__(self, host, name):
        self.host, self.name = host, name

    def audit_target(self):
        return {
            "target_type": "vm",
            "target_id": "",
            "target_name": self.name,
            "host_id": self.host.pk,
            "host_name": self.host.name,
        }


def vm_create(*, actor, host, params):
    """Queue a vm.create with the params create_plan returned (checked again here: a plan may be
    stale by the time the user clicks)."""
    authorize(actor, "vm.create", host)
    check_unique(host, params["name"])
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind="vm.create",
            target=NewVM(host, params["name"]),
            params=params,
        )


def vm_define_xml(*, actor, host, xml, name, vcpus, memory_mib, team=None):
    """Queue a vm.define of checked XML (forms/define_xml.py parses it)."""
    authorize(actor, "vm.create", host)
    check_name(name)
    check_unique(host, name)
    _check_team(actor, team)
    _check_quota(actor, host, "vm.define", team, vms=1, vcpus=vcpus, memory_mib=memory_mib)
    # The audit records and the operations panel get the XML with its passwords masked; the row
    # holds the text itself only until the worker has defined it (runs/create.py forgets it).
    params = {"name": name, "xml": xmledit.mask(xml), "team_id": team.pk if team else None}
    with transaction.atomic():
        op = operation_queue(actor=actor, kind="vm.define", target=NewVM(host, name), params=params)
        op.params = {**op.params, "xml": xml}
        Operation.objects.filter(pk=op.pk).update(params=op.params)
    return op
