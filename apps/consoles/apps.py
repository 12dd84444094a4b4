from django.apps import AppConfig


class ConsolesConfig(AppConfig):
    name = "apps.consoles"
    label = "consoles"

    def ready(self):
        from . import live, runs, services  # noqa: F401  (live renderer, runner, audit actions)
