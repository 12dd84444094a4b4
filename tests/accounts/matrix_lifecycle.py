"""Route matrix rows: clone and delete."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "compute:vm_clone": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
    "compute:vm_delete": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
}
