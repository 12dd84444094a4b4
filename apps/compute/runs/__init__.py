"""The worker half of every VM operation: one runner per kind, registered by importing these
modules (ComputeConfig.ready does, in every process, so a service can check the kind it queues).
Services never import this package."""

from . import clone, create, delete, disks, display, nics, power, settings, snapshots, xmledit  # noqa: F401
