"""A running domain's QEMU process, as `ps`, `pstree` and `virsh vcpuinfo` show it.

libvirt tells, on any host: each vCPU's state, CPU time and physical CPU (virDomainGetVcpus),
the pinning of vCPUs, emulator and I/O threads; QMP `query-cpus-fast` (through libvirt-qemu)
adds each vCPU's host thread id. Only on the host itself can we read the PID (libvirt's pidfile),
the command line and the thread names under /proc — so those are read only for local URIs.

`query-cpus-fast` goes through virDomainQemuMonitorCommand, which libvirt counts as a
"custom-monitor" taint in the domain's log; it is read-only and only runs when the tab is opened.
"""

import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import libvirt
import libvirt_qemu

from apps.core.errors import from_libvirt

VCPU_STATES = {
    libvirt.VIR_VCPU_OFFLINE: "offline",
    libvirt.VIR_VCPU_RUNNING: "running",
    libvirt.VIR_VCPU_BLOCKED: "blocked",
}


@dataclass(frozen=True)
class VcpuThread:
    vcpu: int
    state: str
    cpu_time_ns: int
    physical_cpu: int
    affinity: str  # host CPUs it may run on, "0-3"
    thread_id: int | None = None  # from QMP query-cpus-fast
    thread_name: str = ""  # from /proc on the local host: "CPU 0/KVM" (or "CPU 0/TCG")

    @property
    def cpu_seconds(self):
        return self.cpu_time_ns / 1e9


@dataclass(frozen=True)
class HostThread:
    tid: int
    name: str


@dataclass
class ProcessInfo:
    available: bool  # False: not a QEMU host; `reason` says so
    reason: str = ""
    running: bool = False
    local: bool = False
    pid: int | None = None
    cmdline: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    vcpus: list[VcpuThread] = field(default_factory=list)
    iothreads: list[tuple[int, str]] = field(default_factory=list)  # (id, affinity)
    emulator_affinity: str = ""
    threads: list[HostThread] = field(default_factory=list)  # every thread, local host only
    notes: list[str] = field(default_factory=list)  # what could not be read, and why


def cpuset(mask) -> str:
    """A libvirt CPU map (a tuple of booleans) as a cpuset string: (T, T, F, T) -> "0-1,3"."""
    cpus = [i for i, on in enumerate(mask) if on]
    ranges, start = [], None
    for i, cpu in enumerate(cpus):
        if start is None:
            start = cpu
        if i + 1 == len(cpus) or cpus[i + 1] != cpu + 1:
            ranges.append(str(start) if start == cpu else f"{start}-{cpu}")
            start = None
    return ",".join(ranges)


def is_local(conn) -> bool:
    """qemu:///system or qemu:///session (or their unix forms): the QEMU processes are ours to read."""
    try:
        uri = urlsplit(conn.getURI())
    except libvirt.libvirtError:
        return False
    return uri.scheme in ("qemu", "qemu+unix") and not uri.netloc and uri.path in ("/system", "/session")


def _pidfile(conn, name) -> Path:
    if urlsplit(conn.getURI()).path == "/session":
        runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
        return Path(runtime) / "libvirt" / "qemu" / "run" / f"{name}.pid"
    return Path("/run/libvirt/qemu") / f"{name}.pid"


def local_pid(conn, name) -> int | None:
    """The QEMU PID from libvirt's pidfile, on the local host; None elsewhere or when not running."""
    if not is_local(conn):
        return None
    try:
        pid = int(_pidfile(conn, name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def pid_started(pid) -> datetime | None:
    """When a local process started: /proc/PID/stat field 22, in clock ticks after boot."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # fields after "(comm)" start at field 3
        return datetime.fromtimestamp(_boot_time() + ticks / os.sysconf("SC_CLK_TCK"), tz=UTC)
    except (OSError, ValueError, IndexError):
        return None


def started_at(conn, name) -> datetime | None:
    """When the domain's QEMU process started, where that is cheap to know (the local host)."""
    pid = local_pid(conn, name)
    return pid_started(pid) if pid else None


def _threads(pid) -> list[HostThread]:
    threads = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        try:
            threads.append(HostThread(int(task.name), (task / "comm").read_text().strip()))
        except OSError:
            continue  # the thread ended while we looked
    return threads


def _qmp_thread_ids(dom) -> dict[int, int]:
    reply = libvirt_qemu.qemuMonitorCommand(dom, json.dumps({"execute": "query-cpus-fast"}), 0)
    return {cpu["cpu-index"]: cpu["thread-id"] for cpu in json.loads(reply).get("return", [])}


def process_info(conn, uuid) -> ProcessInfo:
    """Everything the QEMU process tab shows; raises VirtError only when the domain is gone."""
    try:
        driver = conn.getType()
        dom = conn.lookupByUUIDString(uuid)
        name, running = dom.name(), bool(dom.isActive())
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if driver != "QEMU":
        return ProcessInfo(
            available=False,
            reason=f"This host's libvirt driver is {driver}, not QEMU: there is no QEMU process to show "
            "(libvirt's test driver simulates domains without running anything).",
        )
    info = ProcessInfo(available=True, running=running, local=is_local(conn))
    if not running:
        info.reason = "The VM is not running, so it has no QEMU process."
        return info
    _read_libvirt(dom, info)
    if info.local:
        _read_proc(conn, name, info)
    else:
        info.notes.append(
            "The PID, command line and thread names are only readable on the host itself; "
            "this host is remote, so they are left out."
        )
    return info


def _read_libvirt(dom, info):
    try:
        vcpu_info, vcpu_maps = dom.vcpus()
    except libvirt.libvirtError as exc:
        vcpu_info, vcpu_maps = [], []
        info.notes.append(f"vCPU information: {from_libvirt(exc)}")
    try:
        tids = _qmp_thread_ids(dom)
    except (libvirt.libvirtError, ValueError, KeyError) as exc:
        tids = {}
        info.notes.append(f"QMP query-cpus-fast failed, so no vCPU thread ids: {exc}")
    for (number, state, cpu_time, cpu), mask in zip(vcpu_info, vcpu_maps, strict=False):
        info.vcpus.append(
            VcpuThread(
                vcpu=number,
                state=VCPU_STATES.get(state, str(state)),
                cpu_time_ns=cpu_time,
                physical_cpu=cpu,
                affinity=cpuset(mask),
                thread_id=tids.get(number),
            )
        )
    try:
        info.iothreads = [(iothread_id, cpuset(mask)) for iothread_id, mask in dom.ioThreadInfo(0)]
    except libvirt.libvirtError as exc:
        info.notes.append(f"I/O threads: {from_libvirt(exc)}")
    try:
        info.emulator_affinity = cpuset(dom.emulatorPinInfo(0))
    except libvirt.libvirtError as exc:
        info.notes.append(f"Emulator pinning: {from_libvirt(exc)}")


def _read_proc(conn, name, info):
    pid = local_pid(conn, name)
    if pid is None:
        info.notes.append(f"No readable pidfile {_pidfile(conn, name)}; the PID and threads are unknown.")
        return
    info.pid = pid
    info.started_at = pid_started(pid)
    try:
        info.cmdline = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
        info.threads = _threads(pid)
    except OSError as exc:
        info.notes.append(f"/proc/{pid}: {exc.strerror}")
        return
    names = {t.tid: t.name for t in info.threads}
    info.vcpus = [replace(v, thread_name=names.get(v.thread_id, "")) for v in info.vcpus]
