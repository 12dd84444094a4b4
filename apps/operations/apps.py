from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"

    def ready(self):
        from . import live  # noqa: F401  (registers the live renderer)
