from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self):
        from apps.authz.rights import on_denied

        from . import live  # noqa: F401  (registers the "audit" group and the live-tail renderer)
        from .services import record_denied

        on_denied(record_denied)
