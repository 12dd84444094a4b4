from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from . import handlers, live  # noqa: F401  (register monitor handlers and live renderers)
