"""The worker half of every network operation: one runner per kind, registered by importing these
modules (NetworkConfig.ready does). Services never import this package."""

from . import networks  # noqa: F401
