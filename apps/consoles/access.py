"""Who may open which console of a VM.

`vm.console` opens both consoles with keyboard and mouse. An administrator may let people who can
only see a VM (`vm.view`) watch its graphical console without touching it
(KVMWEB_CONSOLE_VIEW_ONLY); the serial console has no view-only form, since what a guest prints
there answers what was typed in it.
"""

from django.conf import settings

from apps.authz.granters import granters
from apps.authz.rights import may

from .models import ConsoleKind

FULL, VIEW = "full", "view"


def console_mode(user, vm, kind):
    if may(user, "vm.console", vm):
        return FULL
    if kind == ConsoleKind.VNC and settings.KVMWEB_CONSOLE_VIEW_ONLY and may(user, "vm.view", vm):
        return VIEW
    return None


def refusal(user, vm, kind):
    """Why the user may not open this console (naming the right and who grants it), or None."""
    if console_mode(user, vm, kind) is not None:
        return None
    names = ", ".join(granters()) or "an administrator"
    return (
        f"You may see {vm.name} but not use its console: that needs the right vm.console "
        f"(“Open a virtual machine's console”), which {names} can grant."
    )


def may_close_sessions(user, vm):
    """Closing someone else's console is for those who administer the VM's host."""
    return may(user, "host.manage", vm)
