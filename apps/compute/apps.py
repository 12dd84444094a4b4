from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from apps.authz import scopes

        from . import handlers, live  # noqa: F401  (register monitor handlers and live renderers)
        from .models import VirtualMachine

        scopes.register(
            "vm", "Virtual machines", lambda: VirtualMachine.objects.filter(present=True).select_related("host")
        )
