from django.apps import AppConfig


class HostsConfig(AppConfig):
    name = "apps.hosts"
    label = "hosts"

    def ready(self):
        from apps.authz import scopes

        from . import live  # noqa: F401  (registers the live renderer)
        from .models import Host

        scopes.register("host", "Hosts", lambda: Host.objects.all())
