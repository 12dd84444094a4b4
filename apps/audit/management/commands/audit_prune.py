"""Retention: export the audit records older than a date to a file, then remove them."""

import uuid
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.audit.retention import PruneError, prune
from apps.core import context


def _date(value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before must be a date (YYYY-MM-DD), not {value!r}") from None


class Command(BaseCommand):
    help = "Write the audit records older than --before to --out (JSON lines, with hashes), then remove them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--before", required=True, type=_date, help="remove records older than this day (YYYY-MM-DD)"
        )
        parser.add_argument("--out", required=True, help="file to write the removed records to; must not exist")

    def handle(self, *args, before, out, **options):
        cutoff = timezone.make_aware(datetime.combine(before, datetime.min.time()))
        token = context.use(context.RequestContext(request_id=uuid.uuid4().hex, user_agent="manage.py audit_prune"))
        try:
            result = prune(before=cutoff, out=out)
        except FileExistsError:
            raise CommandError(f"{out} exists; choose a new file (an earlier export is never overwritten)") from None
        except PruneError as exc:
            raise CommandError(str(exc)) from None
        finally:
            context.reset(token)
        if not result.count:
            self.stdout.write(f"nothing older than {before}")
            return
        self.stdout.write(
            f"{result.count} records before {before} written to {out} and removed; anchor {result.anchor}"
        )
