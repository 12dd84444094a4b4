from apps.operations.services import OperationError


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
