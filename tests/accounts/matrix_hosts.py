"""Route matrix rows: hosts: list, page, add, edit, remove, validation."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "hosts:host_list": ("get", lambda o: {}, EVERYONE),
    # vm_user's grant is scoped to one VM and carries no host.view.
    "hosts:host_detail": ("get", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
}
