"""The worker half of every storage operation: one runner per kind, registered by importing these
modules (StorageConfig.ready does). Services never import this package."""

from . import pools, secrets, transfer, volumes  # noqa: F401
