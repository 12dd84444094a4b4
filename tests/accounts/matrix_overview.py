"""Route matrix rows: the Overview and QEMU process tabs."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "compute:vm_overview": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_process": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
}
