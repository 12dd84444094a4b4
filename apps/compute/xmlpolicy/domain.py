"""The domain's own elements (everything beside <devices>), and <os>: firmware, NVRAM, direct
kernel boot, ACPI tables."""

from lxml import etree

from apps.compute.virt.xml.more_devices import AcpiTable

from .judge import canonical, label, passthrough, sweep

# Elements a VM-level user may write as they like: the guest's own description, sizes and
# virtual hardware. Resource tuning against the other guests (CPU shares and pinning, block I/O
# weights, host NUMA placement, hugepages and locked memory, cgroup partitions), security
# labels, SEV and the Xen/LXC host-side elements need host.manage.
FREE = frozenset(
    {
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
        "memtune", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread", "features", "cpu", "clock",
        "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "keywrap", "throttlegroups",
        "sysinfo",
    }
)  # fmt: skip
HOST_ONLY = frozenset(
    {
        "blkiotune", "memoryBacking", "cputune", "numatune", "resource", "seclabel", "launchSecurity",
        "bootloader", "bootloader_args", "idmap",
    }
)  # fmt: skip
NOT_SWEPT = ("name", "uuid", "title", "description", "metadata")  # the user's own words, never read as paths
# <os> children with nothing of the host in them.
OS_FREE = frozenset({"type", "boot", "bootmenu", "bios", "cmdline", "smbios", "firmware"})
OS_VOLUMES = ("kernel", "initrd", "dtb")  # direct kernel boot: files in a pool the user may use
# UEFI: the firmware and its variable templates are public read-only files of the host's
# firmware packages; each VM's variable store is libvirt's file named after the VM.
FIRMWARE_DIRS = ("/usr/share/OVMF/", "/usr/share/qemu/", "/usr/share/AAVMF/", "/usr/share/edk2/", "/usr/share/seabios/")
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram/"


def nvram_path(name):
    """Where libvirt keeps the UEFI variables of the VM named `name`."""
    return f"{NVRAM_DIR}{name}_VARS.fd"


def _under(path, dirs):
    return ".." not in path.split("/") and path.startswith(dirs)


def driver_passthrough(root):
    """Canonical forms of every element in a libvirt driver namespace (QEMU pass-through …)."""
    return sorted(canonical(el) for el in root.iter() if passthrough(el))


def host_emulators(host):
    """The emulator binaries the host's capabilities list (a copied definition names one)."""
    found = set()
    for text, where in ((host.capabilities_xml, ".//emulator"), (host.domain_capabilities_xml, "path")):
        if not text:
            continue
        try:
            root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        found.update((el.text or "").strip() for el in root.iterfind(where))
    return found - {""}


def judge_top(judge, el):
    """One element directly under <domain> other than <os> and <devices>."""
    name = el.tag
    if passthrough(el):
        return  # refused on its own
    if etree.QName(el).namespace:
        judge.need("host.manage", f"<{etree.QName(el).localname}>, an element kvmweb does not know,")
        return
    if name in FREE:
        if name not in NOT_SWEPT:
            sweep(judge, el)
    elif name in HOST_ONLY:
        judge.need("host.manage", label(el))
    else:
        judge.need("host.manage", f"<{name}>, an element kvmweb does not know,")


def judge_os(judge, os_el, before_os):
    """Each child of <os> that is not in the current definition as it is."""
    unchanged = [canonical(el) for el in before_os]
    for el in os_el:
        if not isinstance(el.tag, str) or passthrough(el):
            continue
        key = canonical(el)
        if key in unchanged:
            unchanged.remove(key)
            continue
        tag = el.tag
        if tag in OS_FREE:
            if tag == "smbios" and el.get("mode") == "host":  # the host's serial numbers and UUIDs
                judge.need("host.manage", "<smbios mode='host'>")
            else:
                sweep(judge, el)
        elif tag in OS_VOLUMES:
            _boot_file(judge, el)
        elif tag == "loader":
            _loader(judge, el)
        elif tag == "nvram":
            _nvram(judge, el)
        elif tag == "acpi":
            for table in el.iter("table"):
                t = AcpiTable.wrap(table)
                judge.need("host.manage", f"<os><acpi><table type='{t.type}'> ({(t.path or '').strip()})")
        else:  # shim, init*, idmap … : host files or LXC's host-side settings
            judge.need("host.manage", f"<os><{etree.QName(el).localname}>")


def _boot_file(judge, el):
    path = (el.text or "").strip()
    if path and not judge.manages_host:
        judge.volume(f"<os><{el.tag}>", path=path, readonly=True)


def _loader(judge, el):
    path = (el.text or "").strip()
    if path and not _under(path, FIRMWARE_DIRS):
        judge.need("host.manage", f"<os><loader> ({path}), firmware outside the host's firmware packages,")


def _nvram(judge, el):
    """The VM's UEFI variable store is the file libvirt names after it, for everyone (another
    file could be another VM's variables, or any file QEMU would then write)."""
    source = el.find("source")
    if el.get("type") not in (None, "file") or (source is not None and source.get("file") is None):
        judge.need("host.manage", f"<os><nvram type='{el.get('type')}'>")
        return
    path = (el.text or "").strip() or (source.get("file", "").strip() if source is not None else "")
    own = nvram_path(judge.vm_name)
    if path and path != own:
        judge.refuse(
            f"<os><nvram> must be {own}: a VM's UEFI variables are kept in the file named after it, not {path}."
        )
    template = (el.get("template") or "").strip()
    if template and not _under(template, FIRMWARE_DIRS):
        judge.need(
            "host.manage", f"<os><nvram template='{template}'>, a template outside the host's firmware packages,"
        )
