"""The errors that cross layers, in a module with no dependencies: adapters raise VirtError with
libvirt's words, runners raise OperationError with their own, and operation_run ends the
operation failed (or cancelled) with that text. Nothing here imports Django, Celery or libvirt."""


class OperationError(Exception):
    """A refusal that should end the operation failed with this text, meant for the person."""


class OperationCancelled(OperationError):
    """Raised by a runner that saw a cancel request (operation_cancel_requested) and stopped
    cleanly: the operation ends cancelled, with this text as its error."""


class VirtError(OperationError):
    """Anything libvirt refused or failed at, carrying libvirt's own message for the user."""

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.code = code


def from_libvirt(exc):
    """Turn a libvirt.libvirtError into a VirtError with the message libvirt gave."""
    message = exc.get_error_message() if hasattr(exc, "get_error_message") else str(exc)
    code = exc.get_error_code() if hasattr(exc, "get_error_code") else None
    return VirtError(message or str(exc), code=code)
