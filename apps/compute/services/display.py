"""Display and console settings (right: vm.edit): set or clear the VNC password, add a VNC
display, add a serial console. One operation on the host's worker; the password travels to it
once through apps/operations/handoff.py and is never stored, shown, logged or audited — the
operation and its audit rows say only "set" or "cleared"."""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.virt import display as virt
from apps.hosts.virt import connection
from apps.operations.handoff import stash_on_commit
from apps.operations.services import operation_queue

registry.register("vm.display", "changed the display and console settings of VM")


class DisplayError(ValueError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def read(vm):
    with connection.connected(vm.host.uri) as conn:
        return virt.read(conn, str(vm.uuid))


@sensitive_variables("password")
def check_password(password):
    if not password:
        raise DisplayError("Type the new password, or tick “Clear the password”.", "password")
    if len(password) > virt.MAX_VNC_PASSWORD:
        raise DisplayError(f"A VNC password has at most {virt.MAX_VNC_PASSWORD} characters (VNC uses no more).", "password")
    if not (password.isascii() and password.isprintable()):
        raise DisplayError("A VNC password is made of printable ASCII characters.", "password")


@sensitive_variables("password")
def vm_display_change(*, actor, vm, password=None, clear_password=False, add_vnc=False, add_serial=False, current=None):
    """Queue the display changes asked for; nothing when nothing changes."""
    authorize(actor, "vm.edit", vm)
    current = current or read(vm)
    params = {}
    if password and clear_password:
        raise DisplayError("Either set a new password or clear it, not both.", "password")
    if password is not None and password != "" or clear_password:
        if not (current.vnc or add_vnc):
            raise DisplayError(f"{vm.name} has no VNC display to protect; add one first.", "password")
        if clear_password:
            if not current.password_set:
                raise DisplayError(f"{vm.name}'s VNC display has no password.", "clear_password")
            params["password"] = "cleared"
        else:
            check_password(password)
            params["password"] = "set"
    if add_vnc and not current.vnc:
        params["add_vnc"] = True
    if add_serial and not current.serial:
        params["add_serial"] = True
    if not params:
        raise DisplayError("Nothing changed.")
    with transaction.atomic():
        if params.get("password") == "set":
            params["password_key"] = stash_on_commit(password.encode())  # "*key" is masked in audit rows
        return operation_queue(actor=actor, kind="vm.display", target=vm, params=params)
