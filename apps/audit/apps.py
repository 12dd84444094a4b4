from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self):
        from . import live  # noqa: F401  (registers the "audit" group and the live-tail renderer)
