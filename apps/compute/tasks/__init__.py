"""Celery tasks, thin: load by id, call a service. Every module is imported here so the worker
registers all of them at start."""

from . import core, create, devices, lifecycle, overview, state  # noqa: F401
