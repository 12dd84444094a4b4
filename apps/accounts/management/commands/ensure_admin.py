import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create the administrator account if it does not exist. The password comes from "
        "KVMWEB_ADMIN_PASSWORD, or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("KVMWEB_ADMIN_USER", "admin"))

    def handle(self, *args, username, **options):
        if get_user_model().objects.filter(username=username).exists():
            if options["verbosity"]:  # scripts/run passes -v0: nothing to tell on a re-run
                self.stdout.write(f"admin account {username!r} exists")
            return
        given = os.environ.get("KVMWEB_ADMIN_PASSWORD")
        _, password = user_create(actor=None, username=username, password=given, superuser=True)
        if given:
            self.stdout.write(f"admin account {username!r} created with the password from KVMWEB_ADMIN_PASSWORD")
        else:
            self.stdout.write(f"admin account {username!r} created; password (shown once): {password}")
