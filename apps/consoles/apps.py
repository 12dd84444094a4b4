from django.apps import AppConfig


class ConsolesConfig(AppConfig):
    name = "apps.consoles"
    label = "consoles"

    def ready(self):
        from . import live, runs, screens, services  # noqa: F401  (live renderers, runner, audit actions)
