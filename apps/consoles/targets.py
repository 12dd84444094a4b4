"""What a VM's consoles are like right now: what the tabs show before connecting, and what the
consumers connect to. Read from libvirt over the host's connection."""

from dataclasses import dataclass

from apps.compute.virt import consoles as virt_consoles
from apps.hosts.models import HostState
from apps.hosts.reads import read_on_host

RUNNING = ("running", "blocked", "paused")


@dataclass(frozen=True)
class ConsoleInfo:
    running: bool
    reason: str  # why no console can open now ("" when one can)
    graphics: str | None  # vnc | spice | None
    spice: bool
    has_serial: bool
    serial_reason: str  # why the serial console cannot open now ("" when it can)
    unreadable: bool = False  # the reason is that libvirt could not be read (nothing is known)


def _not_running(vm):
    return f"{vm.name} is not running ({vm.get_state_display()}): start it to use its console."


def read(vm):
    """(Consoles from libvirt, the reason they cannot be read). Raises nothing."""
    if vm.host.state == HostState.DOWN:  # not yet reached by the monitor (unknown): try anyway
        return None, f"Host {vm.host.name} is unreachable{': ' + vm.host.last_error if vm.host.last_error else ''}."
    found, error = read_on_host(vm.host, lambda conn: virt_consoles.consoles(conn, str(vm.uuid)))
    if error:
        return None, f"Could not read {vm.name}'s consoles: {error}"
    return found, ""


def graphical_reason(vm, found):
    """Why the graphical console cannot open ("" when it can)."""
    if found.state not in RUNNING:
        return _not_running(vm)
    vnc = found.display("vnc")
    if vnc is None:
        if found.display("spice"):
            return f"{vm.name} has a SPICE display only: open it with remote-viewer (a .vv file)."
        return f"{vm.name} has no graphical display. Add one (VNC) in its settings."
    if vnc.port is None and not vnc.socket:
        return f"{vm.name}'s VNC display does not listen anywhere kvmweb can reach."
    return ""


def serial_reason(vm, found):
    if found.state not in RUNNING:
        return _not_running(vm)
    if not found.serial:
        return f"{vm.name} has no serial console. Add a serial port to its definition (it takes effect at the next boot)."
    return ""


def describe(vm) -> ConsoleInfo:
    found, error = read(vm)
    if found is None:
        return ConsoleInfo(vm.state in RUNNING, error, None, False, False, error, unreadable=True)
    graphics = "vnc" if found.display("vnc") else "spice" if found.display("spice") else None
    return ConsoleInfo(
        found.state in RUNNING,
        graphical_reason(vm, found),
        graphics,
        found.display("spice") is not None,
        found.serial,
        serial_reason(vm, found),
    )


def vnc_display(vm):
    """(Display, "") to connect to, or (None, why not)."""
    found, error = read(vm)
    if found is None:
        return None, error
    reason = graphical_reason(vm, found)
    return (None, reason) if reason else (found.display("vnc"), "")

