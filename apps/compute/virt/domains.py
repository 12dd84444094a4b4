"""Domain adapters: plain dataclasses out, VirtError for every refusal."""

from dataclasses import dataclass

import libvirt

from apps.hosts.virt.errors import VirtError, from_libvirt

STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
}


@dataclass(frozen=True)
class DomainInfo:
    uuid: str
    name: str
    state: str
    vcpus: int
    memory_kib: int
    max_memory_kib: int


def list_domains(conn) -> list[DomainInfo]:
    """Every domain on the host with its state, vCPUs and memory, in one bulk call."""
    wanted = libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VCPU | libvirt.VIR_DOMAIN_STATS_BALLOON
    try:
        records = conn.getAllDomainStats(wanted)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for dom, stats in records:
        if "vcpu.current" not in stats or "balloon.maximum" not in stats:
            # Drivers without these stats (the test driver) answer info(): one extra call
            # per domain there, none on QEMU.
            try:
                infos.append(_info(dom))
            except libvirt.libvirtError:
                continue  # undefined between the two calls; the next tick settles it
            continue
        maximum = stats["balloon.maximum"]
        infos.append(
            DomainInfo(
                uuid=dom.UUIDString(),
                name=dom.name(),
                state=STATES.get(stats.get("state.state"), "nostate"),
                vcpus=stats["vcpu.current"],
                memory_kib=stats.get("balloon.current", maximum),
                max_memory_kib=maximum,
            )
        )
    return infos


def _info(dom) -> DomainInfo:
    state, max_mem, mem, vcpus, _cpu_time = dom.info()
    return DomainInfo(
        uuid=dom.UUIDString(),
        name=dom.name(),
        state=STATES.get(state, "nostate"),
        vcpus=vcpus,
        memory_kib=mem,
        max_memory_kib=max_mem,
    )


def domain_info(conn, uuid) -> DomainInfo | None:
    """One domain's facts, or None when it no longer exists."""
    try:
        return _info(conn.lookupByUUIDString(uuid))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise from_libvirt(exc) from None


POWER_ACTIONS = {
    "start": lambda dom: dom.create(),
    "shutdown": lambda dom: dom.shutdown(),
    "reboot": lambda dom: dom.reboot(0),
    "destroy": lambda dom: dom.destroy(),
    "suspend": lambda dom: dom.suspend(),
    "resume": lambda dom: dom.resume(),
}


def power(conn, uuid, action):
    """Run one lifecycle action; libvirt's refusal (e.g. "domain is already running") is raised
    as VirtError with libvirt's words."""
    if action not in POWER_ACTIONS:
        raise VirtError(f"unknown power action {action!r}")
    try:
        POWER_ACTIONS[action](conn.lookupByUUIDString(uuid))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def define(conn, xml) -> str:
    """Define a persistent domain from XML; returns its UUID."""
    try:
        return conn.defineXML(xml).UUIDString()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def best_virt_type(conn, arch="x86_64") -> str:
    """ "kvm" where the host can accelerate, else "qemu" (TCG): tests and the wizard pick this."""
    try:
        conn.getDomainCapabilities(None, arch, None, "kvm", 0)
        return "kvm"
    except libvirt.libvirtError:
        return "qemu"


def undefine(conn, uuid, *, destroy=True):
    """Remove a domain (stopping it first when asked); a missing domain is not an error."""
    try:
        dom = conn.lookupByUUIDString(uuid)
        if destroy and dom.isActive():
            dom.destroy()
        flags = libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        try:
            dom.undefineFlags(flags | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                raise
            dom.undefineFlags(flags)  # drivers without NVRAM (the test driver) refuse the flag
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise from_libvirt(exc) from None
