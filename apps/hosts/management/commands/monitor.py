import signal

from django.core.management.base import BaseCommand

from apps.hosts.monitor import Monitor


class Command(BaseCommand):
    help = "Watch every host: libvirt events and one bulk stats call per host per tick, pushed live."

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=None, help="seconds between stats ticks")

    def handle(self, *args, tick=None, **options):
        monitor = Monitor(tick=tick)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: monitor.stop())
        if options["verbosity"]:  # scripts/run passes -v0 and prints one line for all its processes
            self.stdout.write("monitor: watching hosts (Ctrl-C to stop)")
        monitor.run()
