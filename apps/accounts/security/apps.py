from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "apps.accounts.security"
    label = "accounts_security"
    verbose_name = "Login security"

    def ready(self):
        # Importing registers the auth.* audit actions and connects the login/logout receivers;
        # done here so that every process (web, worker, commands) knows the action codes.
        from apps.core.consumers import register_connect_check

        from . import receivers  # noqa: F401
        from .services import must_enrol

        @register_connect_check
        def enrolment_first(user):
            # The pages send such an administrator to enrolment first (RequireSecondFactorMiddleware);
            # the live socket, which that middleware never sees, refuses them the same way.
            return 4403 if must_enrol(user) else None
