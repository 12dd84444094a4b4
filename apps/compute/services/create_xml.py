"""What the create wizard defines, from the operation's params: the same function builds the
preview the user reads before the final click, the golden files, and the worker's document.

Device choices follow virt-install: with the OS's virtio drivers (osinfo's device list) disks sit
on virtio and NICs are virtio, otherwise SATA and e1000; virtio-rng, the balloon, the guest agent
channel and virtio video only when the OS has the drivers; a serial console always; Windows keeps
its clock in local time. No <cpu> element: the hypervisor's default model starts everywhere, while
host-passthrough and host-model fail on nested hosts that hide MSRs ("failed to set MSR 0x10a",
seen on this project's own machines); a faster CPU mode is a setting to change afterwards.

Two phases, as virt-install has: the *install* document boots the installer (the CD-ROM first,
the network first, or the tree's kernel and initrd with the kernel arguments) and stops on reboot
(on_reboot=destroy), so the installer's final reboot does not start it over; the *final* document
boots from the disk and is what stays defined once the install has started.
"""

from apps.compute import osinfo
from apps.compute.virt.xml import Disk, Domain, Graphics, Interface

SOURCES = ("iso", "tree", "pxe", "import")


def os_entry(os_id):
    return osinfo.get(os_id) if os_id else None


def device_choices(os_id):
    """virtio or not, and which extras, from the OS's device list (a generic recent Linux when
    no OS was chosen)."""
    entry = os_entry(os_id) or osinfo.generic()
    if entry is None:  # osinfo-db missing: assume a modern guest, as virt-install's fallback does
        return {"virtio": True, "rng": True, "balloon": True, "gpu": True, "windows": False}
    return {
        "virtio": entry.virtio,
        "rng": entry.has(osinfo.VIRTIO_RNG),
        "balloon": entry.has(osinfo.VIRTIO_BALLOON),
        "gpu": entry.has(osinfo.VIRTIO_GPU),
        "windows": entry.family == "winnt",
    }


def build_domain(p, *, phase="install", disk_path=None, kernel=None, initrd=None) -> Domain:
    """The Domain for the params of a vm.create operation.

    disk_path is the new volume's path (the preview predicts it from the pool's target); kernel
    and initrd the paths of the uploaded images (the tree install's install phase only).
    """
    dev = device_choices(p.get("os_id"))
    bus = "virtio" if dev["virtio"] else "sata"
    test = p["domain_type"] == "test"
    disks = []
    if p.get("disk"):
        disks.append(Disk(source=disk_path or p["disk"]["path"], target="", bus=bus, format=p["disk"]["format"]))
    if p.get("import"):
        disks.append(Disk(source=p["import"]["path"], target="", bus=bus, format=p["import"]["format"]))
    names = iter(("vda", "vdb", "vdc") if bus == "virtio" else ("sda", "sdb", "sdc"))
    for d in disks:
        d.target = next(names)
    if p["source"] == "iso":
        cd_target = "sdb" if bus == "sata" and disks else "sda"
        disks.append(Disk(source=p["iso"]["path"], target=cd_target, bus="sata", format="raw", device="cdrom"))
    interfaces = [Interface(network=p["network"], model="virtio" if dev["virtio"] else "e1000")] if p["network"] else []
    graphics = [Graphics(type=p["graphics"], listen=p["listen"])] if p["graphics"] != "none" else []
    install = phase == "install"
    boot = ["hd"]
    if install and p["source"] == "iso":
        boot = ["cdrom", "hd"]
    elif p["source"] == "pxe" and (install or not disks):
        boot = ["network", "hd"] if disks else ["network"]
    tree = install and p["source"] == "tree"
    video = None
    if graphics:
        video = "virtio" if dev["gpu"] else ("qxl" if p["graphics"] == "spice" else "vga")
    return Domain(
        name=p["name"],
        memory_mib=p["memory_mib"],
        vcpus=p["vcpus"],
        domain_type=p["domain_type"],
        arch=p.get("arch", "x86_64"),
        machine=None if test else "q35",
        uuid=p.get("uuid"),
        os_id=p.get("os_id") or None,
        firmware="efi" if p["firmware"] == "efi" else None,
        boot=[] if tree else boot,
        kernel=kernel if tree else None,
        initrd=initrd if tree else None,
        cmdline=(p.get("cmdline") or None) if tree else None,
        on_reboot="destroy" if install and p["source"] in ("iso", "tree", "pxe") and p.get("start") else "restart",
        clock="localtime" if dev["windows"] else "utc",
        disks=disks,
        interfaces=interfaces,
        graphics=graphics,
        video=video,
        tablet=bool(graphics),
        serial_console=True,
        guest_agent=dev["virtio"] and not test,
        rng=dev["rng"] and not test,
        memballoon="virtio" if dev["balloon"] and not test else None,
    )


def install_xml(p, **paths):
    return build_domain(p, phase="install", **paths).to_xml()


def final_xml(p, **paths):
    return build_domain(p, phase="final", **paths).to_xml()
