"""What the create wizard reads from a host to offer its choices: the domain type, vCPU limit and
firmware (one domain capabilities call). Defining is domains.define(validate=True)."""

from dataclasses import dataclass

import libvirt

from apps.hosts.virt.capabilities import domain_capabilities
from apps.hosts.virt.errors import VirtError, from_libvirt


@dataclass(frozen=True)
class HostLimits:
    """What a new VM on this host may ask for, and which firmware it can have."""

    domain_type: str  # kvm, qemu (TCG) or test
    arch: str
    max_vcpus: int | None
    efi: bool  # <os firmware="efi"> auto-selection works here
    machine: str | None = None


def host_limits(conn, arch="x86_64") -> HostLimits:
    """Domain type, max vCPUs and EFI support from the domain capabilities; the test driver has
    none, so it gets its own type and no EFI."""
    try:
        driver = conn.getType().lower()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if driver == "test":
        return HostLimits(domain_type="test", arch=arch, max_vcpus=None, efi=False)
    caps = None
    for virttype in ("kvm", "qemu"):
        try:
            caps = domain_capabilities(conn, arch, virttype)
        except VirtError:  # no such virt type here (no /dev/kvm): try the next one
            caps = None
        if caps is not None:
            break
    if caps is None:
        return HostLimits(domain_type="qemu", arch=arch, max_vcpus=None, efi=False)
    return HostLimits(
        domain_type=caps.domain_type or "qemu",
        arch=arch,
        max_vcpus=caps.max_vcpus,
        efi="efi" in caps.firmware,
        machine=None,
    )
