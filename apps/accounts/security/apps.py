from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "apps.accounts.security"
    label = "accounts_security"
    verbose_name = "Login security"

    def ready(self):
        # Importing registers the auth.* audit actions and connects the login/logout receivers;
        # done here so that every process (web, worker, commands) knows the action codes.
        from . import receivers  # noqa: F401
