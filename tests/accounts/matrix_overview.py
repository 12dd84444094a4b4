"""Route matrix rows: the Overview and QEMU process tabs."""

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
    "compute:vm_overview": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_process": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
}
