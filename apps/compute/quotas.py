"""Team quotas: what the create, clone and edit services check before they queue any work."""

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Greatest

from apps.authz.rights import deny

from .models import VirtualMachine

GIB = 1024**3


class QuotaExceeded(ValueError):
    """The message says which limit and by how much, for the form."""


@dataclass(frozen=True)
class Usage:
    vms: int
    vcpus: int
    memory_mib: int
    disk_gib: float


def team_usage(team) -> Usage:
    totals = VirtualMachine.objects.filter(team=team, present=True).aggregate(
        # vCPUs by the definition's maximum: a guest can hot-plug up to it without asking again.
        vms=Count("pk"),
        vcpus=Sum(Greatest(F("vcpus"), F("max_vcpus"))),
        memory=Sum("max_memory_kib"),
        disk=Sum("disk_bytes"),
    )
    return Usage(
        vms=totals["vms"] or 0,
        vcpus=totals["vcpus"] or 0,
        memory_mib=(totals["memory"] or 0) // 1024,
        disk_gib=(totals["disk"] or 0) / GIB,
    )


def team_required(user, team):
    """A member of a team with quotas creates inside one of their teams: a VM outside every team
    counts against no quota, which would make the quotas optional. Administrators are not held."""
    if team is not None or user is None or user.is_superuser:
        return
    limited = user.teams.filter(
        Q(max_vms__isnull=False) | Q(max_vcpus__isnull=False) | Q(max_memory_mib__isnull=False)
        | Q(max_disk_gib__isnull=False)
    ).order_by("name")  # fmt: skip
    names = [t.name for t in limited]
    if names:
        raise QuotaExceeded(f"Choose one of your teams ({', '.join(names)}): what you create counts against its quota.")


def quota_check(team, *, vms=0, vcpus=0, memory_mib=0, disk_gib=0, actor=None, target=None, attempt=""):
    """Raise QuotaExceeded when adding this much would pass one of the team's limits. Given the
    `actor` who asked, the refusal is recorded as "denied" on `target` (no right lifts a quota)."""
    try:
        _check(team, vms=vms, vcpus=vcpus, memory_mib=memory_mib, disk_gib=disk_gib)
    except QuotaExceeded as exc:
        if actor is not None:
            deny(actor, "", target, attempt=attempt, reason=str(exc))
        raise


def _check(team, *, vms, vcpus, memory_mib, disk_gib):
    if team is None:
        return
    used = team_usage(team)
    checks = [
        ("VMs", team.max_vms, used.vms, vms, ""),
        ("vCPUs", team.max_vcpus, used.vcpus, vcpus, ""),
        ("memory", team.max_memory_mib, used.memory_mib, memory_mib, " MiB"),
        ("disk", team.max_disk_gib, used.disk_gib, disk_gib, " GiB"),
    ]
    for label, limit, in_use, adding, unit in checks:
        if limit is not None and adding and in_use + adding > limit:
            raise QuotaExceeded(
                f"Team {team.name} would use {in_use + adding:g}{unit} of {label}, over its quota of "
                f"{limit:g}{unit} ({in_use:g}{unit} in use)."
            )
