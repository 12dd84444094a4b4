"""A tiny bootable guest for the console tests: Debian's kernel and a busybox initramfs, built by
scripts/testboot, booted directly (no disk, no NIC) on qemu:///system in seconds under KVM or TCG.

What the guest gives (see the /init in scripts/testboot): kernel messages and then a shell on the
serial port (ttyS0, the libvirt console), a shell on the VGA text console (tty1, what VNC and SPICE
show), the line `kvmweb-guest-ready` on ttyS0 once both shells can be typed into, and the line
`kvmweb-ctrl-alt-del` on ttyS0 for each Ctrl+Alt+Del pressed on its keyboard (instead of a reboot).

Everything the guest writes to its serial port also goes to a log file, so a test reads what it
printed without taking the console from the code under test.
"""

import uuid as uuidlib
from pathlib import Path

from lxml import etree

from apps.compute.virt import domains
from tests.helpers import unavailable, wait_for

BOOT = Path("/var/lib/libvirt/boot/kvmweb-test")
SERIAL_LOGS = Path("/var/log/libvirt/qemu")
READY = "kvmweb-guest-ready"
CTRL_ALT_DEL = "kvmweb-ctrl-alt-del"
# ttyS0 last: /dev/console, where /init's own errors go, is the last console named, and the serial
# log is what tests read. Kernel messages go to both consoles whatever the order. no_timer_check:
# under TCG on a loaded machine the kernel's IO-APIC timer check can miss its window and panic.
CMDLINE = "console=tty1 console=ttyS0 no_timer_check"


def serial_log_path(name) -> Path:
    return SERIAL_LOGS / f"{name}-serial.log"


def require_built():
    """Skip (fail under CI) a test whose guest scripts/testboot has not built."""
    missing = [str(BOOT / file) for file in ("vmlinuz", "initrd.img") if not (BOOT / file).is_file()]
    if missing:
        unavailable(f"the console test guest is not built ({', '.join(missing)}): run `bash scripts/testboot`")


def domain_xml(name, *, domain_type, vnc=True, vnc_password=None, spice=False, serial=True) -> str:
    """The guest's domain XML: 256 MiB, one vCPU, the kernel and initramfs booted directly."""
    root = etree.Element("domain", type=domain_type)
    etree.SubElement(root, "name").text = name
    etree.SubElement(root, "uuid").text = str(uuidlib.uuid4())
    etree.SubElement(root, "memory", unit="MiB").text = "256"
    etree.SubElement(root, "vcpu").text = "1"
    os_ = etree.SubElement(root, "os")
    etree.SubElement(os_, "type", arch="x86_64").text = "hvm"
    etree.SubElement(os_, "kernel").text = str(BOOT / "vmlinuz")
    etree.SubElement(os_, "initrd").text = str(BOOT / "initrd.img")
    etree.SubElement(os_, "cmdline").text = CMDLINE
    features = etree.SubElement(root, "features")
    etree.SubElement(features, "acpi")
    etree.SubElement(root, "on_poweroff").text = "destroy"
    etree.SubElement(root, "on_reboot").text = "restart"
    etree.SubElement(root, "on_crash").text = "destroy"
    devices = etree.SubElement(root, "devices")
    if serial:
        port = etree.SubElement(devices, "serial", type="pty")
        etree.SubElement(port, "log", file=str(serial_log_path(name)), append="off")
        etree.SubElement(port, "target", port="0")
        console = etree.SubElement(devices, "console", type="pty")
        etree.SubElement(console, "target", type="serial", port="0")
    if vnc:
        attrs = {"type": "vnc", "port": "-1", "autoport": "yes", "listen": "127.0.0.1"}
        if vnc_password is not None:
            attrs["passwd"] = vnc_password
        etree.SubElement(devices, "graphics", attrs)
    if spice:
        etree.SubElement(devices, "graphics", type="spice", autoport="yes", listen="127.0.0.1")
    if vnc or spice:
        video = etree.SubElement(devices, "video")
        etree.SubElement(video, "model", type="vga")
    return etree.tostring(root, encoding="unicode")


def guest_virt_type(conn) -> str:
    """ "kvm" where the host's KVM runs this guest, else "qemu" (TCG). libvirt offering KVM is not
    enough: KVM without VT-x or AMD-V underneath (the kvm_pvm module of some cloud sandboxes, where
    /dev/kvm starts a domain) runs an ordinary kernel's boot code so slowly that it never boots."""
    if domains.best_virt_type(conn) != "kvm":
        return "qemu"
    hardware = any(Path("/sys/module", module).exists() for module in ("kvm_intel", "kvm_amd"))
    return "kvm" if hardware else "qemu"


def define_console_domain(
    conn, name, *, vnc=True, vnc_password=None, spice=False, serial=True, start=True, domain_type=None
) -> str:
    """Define the guest on `conn` (qemu:///system) and start it unless told not to; returns its
    UUID. It runs under KVM where the host can boot it with KVM (`guest_virt_type`), else TCG,
    unless `domain_type` names one. Remove it with `undefine`."""
    require_built()
    xml = domain_xml(
        name,
        domain_type=domain_type or guest_virt_type(conn),
        vnc=vnc,
        vnc_password=vnc_password,
        spice=spice,
        serial=serial,
    )
    dom_uuid = domains.define(conn, xml)
    if start:
        try:
            domains.power(conn, dom_uuid, "start")
        except Exception:
            domains.undefine(conn, dom_uuid)
            raise
    return dom_uuid


def serial_log(name) -> str:
    """What the guest has written to its serial port so far ("" before QEMU opened the log)."""
    try:
        return serial_log_path(name).read_text(errors="replace")
    except FileNotFoundError:
        return ""


def wait_for_serial(name, text, timeout=60):
    """Wait until the guest has written `text` to its serial port; returns the log then. The
    default allows a TCG boot on a slow machine. A timeout shows the end of the log."""
    try:
        where = f"{text!r} on {name}'s serial port"
        return wait_for(lambda: text in (log := serial_log(name)) and log, timeout=timeout, message=where)
    except AssertionError as exc:
        raise AssertionError(f"{exc}, whose log ends with:\n{serial_log(name)[-2000:]}") from None


def undefine(conn, dom_uuid):
    """Stop the guest if it runs and remove it, with its serial log."""
    dom = domains.domain_info(conn, dom_uuid)
    domains.undefine(conn, dom_uuid)
    if dom is not None:
        serial_log_path(dom.name).unlink(missing_ok=True)
