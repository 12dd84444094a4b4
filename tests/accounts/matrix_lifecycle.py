"""Route matrix rows: clone and delete."""

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
    "compute:vm_clone": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK)),
    "compute:vm_delete": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK)),
}
