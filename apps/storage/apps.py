from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "apps.storage"
    label = "storage"

    def ready(self):
        from apps.audit.selectors import register_target_type
        from apps.authz import scopes

        from . import handlers, live, runs  # noqa: F401  (monitor handlers, live renderers, runners)
        from .models import StoragePool

        scopes.register(
            "pool", "Storage pools", lambda: StoragePool.objects.filter(present=True).select_related("host")
        )
        register_target_type("volume", "storage.view")
        register_target_type("secret", "storage.view")
