"""Domain adapters: plain dataclasses out, VirtError for every refusal."""

from dataclasses import dataclass, field, replace

import libvirt

from apps.core.errors import VirtError, from_libvirt

from . import stats as usage
from .xml import Domain
from .xml.domain import LIBOSINFO_NS as LIBOSINFO_NS  # named here too, where callers found it

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

# Why a domain is in its state, in the words `virsh domstate --reason` uses; the index is
# libvirt's reason number for that state (virDomainRunningReason, virDomainPausedReason, …).
REASONS = {
    "running": (
        "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
        "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
    ),
    "paused": (
        "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
        "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
        "api error",
    ),
    "shutdown": ("unknown", "user"),
    "shutoff": (
        "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon",
    ),
    "crashed": ("unknown", "panicked"),
    "pmsuspended": ("unknown",),
    "blocked": ("unknown",),
    "nostate": ("unknown",),
}  # fmt: skip

# States in which the domain's QEMU process runs, and so has usage counters.
ACTIVE = frozenset({"running", "blocked", "paused", "shutdown", "pmsuspended"})

EVENT_STOPPED = libvirt.VIR_DOMAIN_EVENT_STOPPED
EVENT_UNDEFINED = libvirt.VIR_DOMAIN_EVENT_UNDEFINED
# A STOPPED lifecycle event's detail as the shutoff reason it leads to.
STOPPED_REASONS = {
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED: "destroyed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED: "migrated",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED: "saved",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED: "failed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: "from snapshot",
}


def stopped_reason(event, detail) -> str | None:
    """The shutoff reason of a STOPPED lifecycle event; None for any other event. Lets the
    monitor record a stop whose domain was undefined before it could look (`virsh undefine`
    of a running transient or just-destroyed domain)."""
    if event != EVENT_STOPPED:
        return None
    return STOPPED_REASONS.get(detail, "unknown")


def state_of(code, reason):
    """libvirt's (state, reason) numbers as our names: ("shutoff", "destroyed")."""
    state = STATES.get(code, "nostate")
    reasons, reason = REASONS[state], reason or 0
    return state, reasons[reason] if 0 <= reason < len(reasons) else f"reason {reason}"


@dataclass(frozen=True)
class NicInfo:
    """One NIC as the domain's XML has it: what it is plugged into."""

    mac: str
    kind: str  # the <interface type>: network, bridge, direct, hostdev, user, …
    source: str
    portgroup: str
    openvswitch: bool
    model: str
    target: str
    link_up: bool


def nics_of(doc) -> tuple[NicInfo, ...]:
    return tuple(
        NicInfo(
            mac=(i.mac or "").lower(),
            # A running NIC on a network of host bridges, Open vSwitch or macvtap shows the type it
            # was given (bridge, direct) beside the network's name: it is still on that network.
            kind="network" if i.network else i.type or "",
            source=i.network or i.source_name,
            portgroup=i.portgroup or "",
            openvswitch=i.virtualport == "openvswitch",
            model=i.model or "",
            target=i.target or "",
            link_up=i.link != "down",
        )
        for i in doc.interfaces
        if i.mac
    )


@dataclass(frozen=True)
class DomainInfo:
    """What the inventory keeps of a domain.

    The first fields change with the domain's life and come from the monitor's one bulk call
    per tick. The configuration fields (None: not read this time) change only through a define,
    `virsh autostart` or `virsh desc`, so they are read on connect, on events and after our own
    operations — never per domain per tick.
    """

    uuid: str
    name: str
    state: str
    vcpus: int
    memory_kib: int
    max_memory_kib: int
    state_reason: str = ""
    autostart: bool | None = None
    persistent: bool | None = None
    title: str | None = None
    description: str | None = None
    os_variant: str | None = None
    max_vcpus: int | None = None  # <vcpu>: what the guest may have hot-plugged, the quota's count
    nics: tuple[NicInfo, ...] | None = None  # with the configuration: the live XML's NICs
    # The usage counters the bulk call returned (active domains only), for the graphs.
    counters: usage.DomainCounters | None = field(default=None, compare=False, repr=False)

    @property
    def has_config(self):
        return self.autostart is not None


def list_domains(conn, *, config=False) -> list[DomainInfo]:
    """Every domain on the host with its state (and reason), vCPUs and memory, in one bulk call,
    which also brings the usage counters of the active ones (`DomainInfo.counters`).

    config=True (on connect) also reads each domain's configuration fields: one XML read per
    domain plus two bulk listings for autostart and persistence.
    """
    try:
        records = conn.getAllDomainStats(usage.WANTED)
        if config:
            autostart = _uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
            persistent = _uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for dom, stats in records:
        try:
            info = _from_stats(dom, stats)
            if config:
                uuid = info.uuid
                info = _with_config(info, dom, autostart=uuid in autostart, persistent=uuid in persistent)
        except libvirt.libvirtError:
            continue  # undefined between the two calls; the next tick settles it
        infos.append(info)
    return infos


def _from_stats(dom, stats):
    state, reason = state_of(stats.get("state.state"), stats.get("state.reason", 0))
    if "vcpu.current" not in stats or "balloon.maximum" not in stats:
        # Drivers without these stats (the test driver) answer info(): one extra call per
        # domain there, none on QEMU.
        _state, max_mem, mem, vcpus, cpu_time = dom.info()
        counters = usage.counters_of(stats, vcpus=vcpus, memory_kib=mem, cpu_ns=cpu_time) if state in ACTIVE else None
        return DomainInfo(
            dom.UUIDString(), dom.name(), state, vcpus, mem, max_mem, state_reason=reason, counters=counters
        )
    maximum = stats["balloon.maximum"]
    vcpus, memory = stats["vcpu.current"], stats.get("balloon.current", maximum)
    return DomainInfo(
        uuid=dom.UUIDString(),
        name=dom.name(),
        state=state,
        vcpus=vcpus,
        memory_kib=memory,
        max_memory_kib=maximum,
        state_reason=reason,
        counters=usage.counters_of(stats, vcpus=vcpus, memory_kib=memory) if state in ACTIVE else None,
    )


def _uuids(conn, flag):
    return {dom.UUIDString() for dom in conn.listAllDomains(flag)}


def autostart_uuids(conn) -> set[str]:
    """The domains that start with the host, in one call: autostart has no event, so the monitor
    re-reads it now and then (`virsh autostart` leaves no other trace)."""
    try:
        return _uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def _with_config(info, dom, *, autostart, persistent):
    doc = Domain.parse(dom.XMLDesc(0))
    return replace(
        info,
        autostart=bool(autostart),
        persistent=bool(persistent),
        title=doc.title or "",
        description=doc.description or "",
        os_variant=doc.os_id or "",
        max_vcpus=doc.vcpus or info.vcpus,
        nics=nics_of(doc),
    )


def lookup(conn, uuid):
    """The domain with this UUID; VirtError (libvirt's "Domain not found …") when there is none."""
    try:
        return conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def name_taken(conn, name) -> bool:
    """Is a domain of this name defined on the host (maybe not yet in the inventory)?"""
    try:
        conn.lookupByName(name)
        return True
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise from_libvirt(exc) from None


def domain_info(conn, uuid) -> DomainInfo | None:
    """One domain's facts, configuration included, or None when it no longer exists."""
    try:
        dom = conn.lookupByUUIDString(uuid)
        state, reason = state_of(*dom.state())
        _state, max_mem, mem, vcpus, _cpu_time = dom.info()
        info = DomainInfo(dom.UUIDString(), dom.name(), state, vcpus, mem, max_mem, state_reason=reason)
        return _with_config(info, dom, autostart=dom.autostart(), persistent=dom.isPersistent())
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


def define(conn, xml, *, validate=False) -> str:
    """Define a persistent domain from XML; returns its UUID. With validate, libvirt checks the
    document against its schema first (VIR_DOMAIN_DEFINE_VALIDATE; drivers that do not know the
    flag define without it). libvirt's refusal is raised as VirtError."""
    try:
        if validate:
            try:
                return conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE).UUIDString()
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                    raise
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
