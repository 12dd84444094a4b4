"""Network services. Every module is imported here so that the audit actions they register
exist in every process (the worker records outcomes by action)."""

from . import inventory, networks  # noqa: F401
