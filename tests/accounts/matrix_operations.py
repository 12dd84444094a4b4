"""Route matrix rows: the task center and cancelling an operation."""

from tests.accounts.matrix_common import EVERYONE, FORBIDDEN, LOGIN, NOT_FOUND, OK, _transfer, row

ROWS = {
    "operations:operation_list": ("get", lambda o: {}, EVERYONE),
    # An upload the admin queued: the viewer sees it but may not manage the pool, the VM user
    # does not see it; the operator cancels it, after which the admin is told it already ended.
    "operations:operation_cancel": (
        "post",
        lambda o: {"pk": _transfer(o, "volume.upload").pk},
        row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK),
    ),
}
