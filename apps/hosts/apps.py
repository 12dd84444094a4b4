from django.apps import AppConfig


class HostsConfig(AppConfig):
    name = "apps.hosts"
    label = "hosts"

    def ready(self):
        from . import live  # noqa: F401  (registers the live renderer)
