"""Route matrix rows: the VM list, the VM page and its power buttons."""

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
}
