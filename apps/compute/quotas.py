"""Team quotas: what the create, clone and edit services check before they queue any work."""

from dataclasses import dataclass

from django.db.models import Count, Sum

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
        vms=Count("pk"), vcpus=Sum("vcpus"), memory=Sum("max_memory_kib"), disk=Sum("disk_bytes")
    )
    return Usage(
        vms=totals["vms"] or 0,
        vcpus=totals["vcpus"] or 0,
        memory_mib=(totals["memory"] or 0) // 1024,
        disk_gib=(totals["disk"] or 0) / GIB,
    )


def quota_check(team, *, vms=0, vcpus=0, memory_mib=0, disk_gib=0):
    """Raise QuotaExceeded when adding this much would pass one of the team's limits."""
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
