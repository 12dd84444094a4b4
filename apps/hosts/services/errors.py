class HostError(ValueError):
    """The change cannot be made as asked; the message is for the person who asked."""
