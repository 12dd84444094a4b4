"""Route matrix rows: hosts: list, page, add, edit, remove, validation."""

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
    "hosts:host_list": ("get", lambda o: {}, EVERYONE),
    # vm_user's grant is scoped to one VM and carries no host.view: the host answers as missing.
    "hosts:host_detail": ("get", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    # host.manage is the administrators' alone; an empty POST re-renders the form with its errors.
    "hosts:host_add": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "hosts:host_edit": ("post", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "hosts:host_remove": ("post", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
}
