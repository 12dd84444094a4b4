from dataclasses import dataclass

import libvirt

from apps.core.errors import from_libvirt


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    driver: str
    libvirt_version: str
    hypervisor_version: str
    cpu_model: str
    cpus: int
    memory_kib: int


def _version(number):
    if not number:
        return ""
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


def host_info(conn) -> HostInfo:
    try:
        model, memory_mib, cpus, *_ = conn.getInfo()
        return HostInfo(
            hostname=conn.getHostname(),
            driver=conn.getType(),
            libvirt_version=_version(conn.getLibVersion()),
            hypervisor_version=_version(conn.getVersion()),
            cpu_model=model,
            cpus=cpus,
            memory_kib=memory_mib * 1024,
        )
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
