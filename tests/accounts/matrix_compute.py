"""Route matrix rows: the VM list, the VM page, its power buttons and its consoles."""

from tests.accounts.matrix_common import (  # noqa: F401
    BAD,
    EVERYONE,
    FORBIDDEN,
    LOGIN,
    NO_CONTENT,
    NOT_FOUND,
    OK,
    REDIRECT,
    row,
)

ROWS = {
    "compute:vm_list": ("get", lambda o: {}, EVERYONE),
    # vm_user holds power on another VM only: this one is someone else's, and answers as missing.
    "compute:vm_detail": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_power": (
        "post",
        lambda o: {"pk": o["vm"].pk, "action": "start"},
        row(LOGIN, FORBIDDEN, NOT_FOUND, NO_CONTENT, NO_CONTENT),
    ),
    # Bulk: vm_user holds vm.power on some VM, so reaches the empty POST's 400 like those above it.
    "compute:vm_bulk": ("post", lambda o: {}, row(LOGIN, FORBIDDEN, BAD, BAD, BAD)),
    # Consoles: whoever sees the VM gets the tab (saying which right is missing, or the console);
    # the socket checks vm.console again. Closing someone's console is for host.manage.
    "consoles:vnc_tab": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "consoles:vnc_window": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "consoles:serial_tab": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "consoles:serial_window": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "consoles:sessions": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "consoles:session_close": (
        "post",
        lambda o: {"pk": o["vm"].pk, "session_id": _console_session(o).pk},
        row(LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, OK),
    ),
    # The matrix's VM is on the test driver, which has no SPICE display: the file is refused (409).
    "consoles:spice_vv": ("post", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, 409, 409)),
    # The matrix's VM is stopped: it has no picture, and Refresh has nothing to take.
    "screens:screen": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "screens:screen_png": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND)),
    "screens:screen_refresh": (
        "post",
        lambda o: {"pk": o["vm"].pk},
        row(LOGIN, FORBIDDEN, NOT_FOUND, NO_CONTENT, NO_CONTENT),
    ),
}


def _console_session(o):
    """An open graphical console of the world's VM, held by the operator."""
    from apps.consoles.models import ConsoleSession

    return ConsoleSession.objects.get_or_create(vm=o["vm"], user=o["users"]["operator"], kind="vnc")[0]
