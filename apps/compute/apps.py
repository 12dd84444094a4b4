from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "apps.compute"
    label = "compute"

    def ready(self):
        from apps.authz import scopes

        from . import handlers, live, runs  # noqa: F401  (monitor handlers, live renderers, runners)
        from .models import VirtualMachine

        scopes.register(
            "vm", "Virtual machines", lambda: VirtualMachine.objects.filter(present=True).select_related("host")
        )
