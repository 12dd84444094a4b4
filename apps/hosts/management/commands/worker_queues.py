from django.core.management.base import BaseCommand

from apps.core.queues import DEFAULT
from apps.hosts.models import Host


class Command(BaseCommand):
    help = "Print the Celery queues a central worker consumes: default plus one per host."

    def handle(self, *args, **options):
        self.stdout.write(",".join([DEFAULT, *(h.queue for h in Host.objects.all())]))
