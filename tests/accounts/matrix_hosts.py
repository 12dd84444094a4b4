"""Route matrix rows: hosts: list, page, add, edit, remove, validation."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "hosts:host_list": ("get", lambda o: {}, EVERYONE),
    # vm_user's grant is scoped to one VM and carries no host.view.
    "hosts:host_detail": ("get", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    # host.manage is the administrators' alone; an empty POST re-renders the form with its errors.
    "hosts:host_add": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "hosts:host_edit": ("post", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "hosts:host_remove": ("post", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
}
