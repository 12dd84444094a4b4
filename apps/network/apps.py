from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "apps.network"
    label = "network"

    def ready(self):
        from apps.authz import scopes

        from . import handlers, interfaces, live, runs, wiring  # noqa: F401  (monitor, live renderers, runners)
        from .models import VirtualNetwork

        scopes.register(
            "network",
            "Virtual networks",
            lambda: VirtualNetwork.objects.filter(present=True).select_related("host"),
        )
