"""The checks of `virt-host-validate qemu`, as PASS / WARN / FAIL / SKIP with what to do about each.

On the local host (qemu:///system or qemu:///session) they read /proc, /sys and /dev like the tool
does; every function takes `root` so tests can point it at a fake tree. A remote host cannot be
looked at this way, so there we derive what libvirt's capabilities tell and say which checks could
not be made. Severities follow the tool: missing hardware virtualization, vhost-net, cgroup
controllers or IOMMU are warnings (guests still run, slower or with fewer features); a missing or
unusable /dev/kvm (with hardware virtualization present) or /dev/net/tun fails.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
REMOTE = "could not be checked remotely: libvirt does not report it"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    explanation: str
    fix: str = ""

    @property
    def badge(self):
        return {PASS: "success", WARN: "warning", FAIL: "danger"}.get(self.status, "secondary")


def is_local(uri):
    """qemu:///system and qemu:///session (no hostname, no transport) are this machine."""
    parts = urlsplit(uri)
    return parts.scheme == "qemu" and not parts.netloc and parts.path in ("/system", "/session")


def is_qemu(uri):
    return urlsplit(uri).scheme.split("+")[0] == "qemu"


def _path(root, rel):
    return Path(root, rel.lstrip("/"))


def _read(root, rel):
    try:
        return _path(root, rel).read_text()
    except OSError:
        return ""


# -- local checks --------------------------------------------------------------------------------


def check_hardware_virtualization(root="/"):
    flags = set()
    for line in _read(root, "/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    name = "Hardware virtualization"
    if "vmx" in flags:
        return CheckResult(name, PASS, "The CPU has Intel VT-x (vmx).")
    if "svm" in flags:
        return CheckResult(name, PASS, "The CPU has AMD-V (svm).")
    return CheckResult(
        name,
        WARN,
        "No vmx or svm flag in /proc/cpuinfo: only emulated CPUs (TCG) are available, much slower.",
        "Enable VT-x / AMD-V in the firmware setup; in a VM, enable nested virtualization on its host.",
    )


def check_dev_kvm(root="/", hardware=None):
    name = "/dev/kvm present and usable"
    path = _path(root, "/dev/kvm")
    if hardware is not None and hardware.status != PASS and not path.exists():
        return CheckResult(name, SKIP, "Not checked: without hardware virtualization there is no /dev/kvm.")
    if not path.exists():
        return CheckResult(
            name,
            FAIL,
            "/dev/kvm does not exist, so guests cannot use KVM.",
            "Load the kvm-intel or kvm-amd module (modprobe) and check that the firmware enables virtualization.",
        )
    if not os.access(path, os.R_OK | os.W_OK):
        return CheckResult(
            name,
            FAIL,
            "/dev/kvm exists but this process may not read and write it.",
            "Add the user to the 'kvm' group, or check the device's mode (usually 0660 root:kvm).",
        )
    return CheckResult(name, PASS, "/dev/kvm exists and is readable and writable.")


def check_vhost_net(root="/"):
    name = "/dev/vhost-net"
    if _path(root, "/dev/vhost-net").exists():
        return CheckResult(name, PASS, "vhost-net is available: virtio networking runs in the kernel.")
    return CheckResult(
        name,
        WARN,
        "/dev/vhost-net is missing: virtio networking falls back to QEMU userspace, slower.",
        "Load the 'vhost_net' module (modprobe vhost_net).",
    )


def check_tun(root="/"):
    name = "/dev/net/tun"
    if _path(root, "/dev/net/tun").exists():
        return CheckResult(name, PASS, "TUN/TAP is available for guest network interfaces.")
    return CheckResult(
        name,
        FAIL,
        "/dev/net/tun is missing: libvirt cannot create TAP devices for guest networking.",
        "Load the 'tun' module (modprobe tun).",
    )


CGROUP_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "devices", "blkio")
# In cgroup v2, cpuacct's accounting is part of 'cpu' and 'devices' is an eBPF program, not a controller.
_V2_NAMES = {"cpu": "cpu", "cpuset": "cpuset", "memory": "memory", "blkio": "io"}
_V2_IMPLICIT = {
    "cpuacct": "cgroup v2 has no cpuacct controller: CPU accounting is built into 'cpu'.",
    "devices": "cgroup v2 has no devices controller: libvirt controls device access with an eBPF program.",
}
_CGROUP_FIX = "Enable the controller in the kernel and mount it (v1) or list it in cgroup.subtree_control (v2)."


def check_cgroups(root="/"):
    v2_file = _path(root, "/sys/fs/cgroup/cgroup.controllers")
    if v2_file.exists():
        available = set(_read(root, "/sys/fs/cgroup/cgroup.controllers").split())
        results = []
        for ctrl in CGROUP_CONTROLLERS:
            name = f"cgroup '{ctrl}' controller"
            if ctrl in _V2_IMPLICIT:
                results.append(CheckResult(name, PASS, _V2_IMPLICIT[ctrl]))
            elif _V2_NAMES[ctrl] in available:
                v2 = _V2_NAMES[ctrl]
                what = f"'{v2}' (v2's name for blkio)" if v2 != ctrl else f"'{v2}'"
                results.append(CheckResult(name, PASS, f"cgroup v2 offers {what}."))
            else:
                results.append(CheckResult(name, WARN, f"cgroup v2 does not offer '{_V2_NAMES[ctrl]}'.", _CGROUP_FIX))
        return results
    enabled = set()
    for line in _read(root, "/proc/cgroups").splitlines():
        cols = line.split()
        if len(cols) >= 4 and not line.startswith("#") and cols[3] == "1":
            enabled.add(cols[0])
    base = _path(root, "/sys/fs/cgroup")
    mounted = set()
    if base.is_dir():
        for entry in base.iterdir():
            if entry.is_dir():
                mounted.update(entry.name.split(","))
    if not enabled and not mounted:
        return [
            CheckResult(
                f"cgroup '{ctrl}' controller",
                WARN,
                "No cgroup filesystem found (neither v2 cgroup.controllers nor v1 controllers).",
                "Mount cgroup2 on /sys/fs/cgroup (or the v1 controllers).",
            )
            for ctrl in CGROUP_CONTROLLERS
        ]
    results = []
    for ctrl in CGROUP_CONTROLLERS:
        name = f"cgroup '{ctrl}' controller"
        if ctrl in enabled and ctrl in mounted:
            results.append(CheckResult(name, PASS, f"cgroup v1 '{ctrl}' is enabled and mounted."))
        elif ctrl in enabled:
            results.append(CheckResult(name, WARN, f"cgroup v1 '{ctrl}' is enabled but not mounted.", _CGROUP_FIX))
        else:
            results.append(CheckResult(name, WARN, f"cgroup v1 '{ctrl}' is not enabled in the kernel.", _CGROUP_FIX))
    return results


def check_iommu(root="/"):
    name = "IOMMU enabled"
    groups = _path(root, "/sys/kernel/iommu_groups")
    if groups.is_dir() and any(groups.iterdir()):
        return CheckResult(name, PASS, "The kernel has IOMMU groups: devices can be passed through (VFIO).")
    cmdline = _read(root, "/proc/cmdline").split()
    if any(arg in ("intel_iommu=on", "amd_iommu=on") for arg in cmdline):
        return CheckResult(name, PASS, "The kernel command line enables the IOMMU.")
    return CheckResult(
        name,
        WARN,
        "No IOMMU groups and no intel_iommu/amd_iommu on the kernel command line: no PCI passthrough.",
        "Enable VT-d / AMD-Vi in the firmware and add intel_iommu=on (Intel) or amd_iommu=on (AMD) to the kernel "
        "command line.",
    )


def validate_local(root="/"):
    hardware = check_hardware_virtualization(root)
    kvm = check_dev_kvm(root, hardware)
    if hardware.status != PASS and kvm.status == PASS:
        # Some hypervisors hide vmx/svm from a guest's cpuinfo yet pass KVM through: a working
        # /dev/kvm is the stronger evidence.
        hardware = CheckResult(
            hardware.name, PASS, "/proc/cpuinfo shows no vmx or svm flag, but /dev/kvm works: KVM is available."
        )
    return [
        hardware,
        kvm,
        check_vhost_net(root),
        check_tun(root),
        *check_cgroups(root),
        check_iommu(root),
    ]


# -- remote: what libvirt tells ------------------------------------------------------------------


def validate_remote(caps, domcaps=None):
    """From HostCapabilities (and DomainCapabilities if any); None when the host could not be read."""
    names = ["Hardware virtualization", "/dev/kvm present and usable", "/dev/vhost-net", "/dev/net/tun"]
    names += [f"cgroup '{c}' controller" for c in CGROUP_CONTROLLERS]
    if caps is None:
        unread = "Not checked: the monitor has not read this host's capabilities yet (never reached)."
        return [CheckResult(n, SKIP, unread) for n in [*names, "IOMMU enabled"]]
    kvm = caps.has_kvm or (domcaps is not None and domcaps.domain_type == "kvm")
    if kvm:
        hw = CheckResult(names[0], PASS, "libvirt offers the 'kvm' domain type, so the CPU has VT-x / AMD-V.")
        dev = CheckResult(names[1], PASS, "libvirt offers the 'kvm' domain type, so its QEMU can open /dev/kvm.")
    else:
        fix = "Enable VT-x / AMD-V in the firmware and load kvm-intel or kvm-amd on that host."
        hw = CheckResult(names[0], WARN, "libvirt offers no 'kvm' domain type: guests run emulated (TCG).", fix)
        dev = CheckResult(names[1], WARN, "libvirt offers no 'kvm' domain type: /dev/kvm is missing or unusable.", fix)
    results = [hw, dev] + [CheckResult(n, SKIP, f"Not checked: {REMOTE}.") for n in names[2:]]
    if caps.iommu_support is True:
        results.append(CheckResult("IOMMU enabled", PASS, "libvirt reports IOMMU support."))
    elif caps.iommu_support is False:
        results.append(
            CheckResult(
                "IOMMU enabled",
                WARN,
                "libvirt reports no IOMMU support: no PCI passthrough.",
                "Enable VT-d / AMD-Vi in the firmware and intel_iommu=on / amd_iommu=on on that host's kernel.",
            )
        )
    elif domcaps is not None and "vfio" in domcaps.pci_backends:
        # libvirt offers the vfio PCI backend only when the host's /sys/kernel/iommu_groups is populated.
        results.append(
            CheckResult("IOMMU enabled", PASS, "libvirt offers VFIO PCI passthrough, which needs the IOMMU.")
        )
    else:
        results.append(CheckResult("IOMMU enabled", SKIP, f"Not checked: {REMOTE}."))
    return results


def validate_host(host, caps=None, domcaps=None, root="/"):
    """The checks for a Host row: local ones read here, remote ones derived from libvirt."""
    if not is_qemu(host.uri):
        return [
            CheckResult(
                "All checks",
                SKIP,
                f"Host validation applies to QEMU/KVM hosts; this one uses the '{urlsplit(host.uri).scheme.split('+')[0]}' driver.",
            )
        ]
    if is_local(host.uri):
        return validate_local(root)
    return validate_remote(caps, domcaps)
