from django.core.management.base import BaseCommand, CommandError

from apps.hosts.models import Host
from apps.hosts.services import HostError, host_create


class Command(BaseCommand):
    help = (
        "Register a libvirt host by name and URI (does nothing if the name exists with that URI). "
        "No connection test: the monitor shows the host up, or down with libvirt's reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("uri", help="e.g. qemu:///system, qemu+ssh://root@hv1/system, test+unix:///default")

    def handle(self, *args, name, uri, **options):
        existing = Host.objects.filter(name=name).first()
        if existing is not None:
            if existing.uri != uri:
                raise CommandError(f"host {name!r} exists with another URI ({existing.uri})")
            if options["verbosity"]:
                self.stdout.write(f"host {name} already registered")
            return
        try:
            host_create(actor=None, name=name, uri=uri)
        except HostError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"]:  # scripts/run registers its hosts with -v0
            self.stdout.write(f"host {name} registered ({uri})")
