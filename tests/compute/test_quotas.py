import pytest

from apps.accounts.services import team_create
from apps.compute.models import VirtualMachine
from apps.compute.quotas import QuotaExceeded, quota_check, team_usage
from tests.helpers import make_vm


def test_usage_counts_the_teams_present_vms(demo_host):
    team = team_create(actor=None, name="blue", max_vms=2, max_vcpus=3, max_memory_mib=1024)
    a, b = make_vm(demo_host), make_vm(demo_host)
    VirtualMachine.objects.filter(pk__in=[a.pk, b.pk]).update(team=team)
    VirtualMachine.objects.filter(pk=b.pk).update(present=False)
    usage = team_usage(team)
    assert (usage.vms, usage.vcpus, usage.memory_mib) == (1, 1, 256)


def test_each_limit_is_checked_with_a_clear_message(demo_host):
    team = team_create(actor=None, name="blue", max_vms=2, max_vcpus=3, max_memory_mib=1024, max_disk_gib=10)
    VirtualMachine.objects.filter(pk=make_vm(demo_host).pk).update(team=team)
    quota_check(team, vms=1, vcpus=2, memory_mib=768, disk_gib=10)  # exactly at the limits
    with pytest.raises(QuotaExceeded, match="3 of VMs, over its quota of 2"):
        quota_check(team, vms=2)
    with pytest.raises(QuotaExceeded, match="vCPUs"):
        quota_check(team, vcpus=3)
    with pytest.raises(QuotaExceeded, match="1280 MiB of memory"):
        quota_check(team, memory_mib=1024)
    with pytest.raises(QuotaExceeded, match="disk"):
        quota_check(team, disk_gib=10.5)


def test_no_team_or_no_limit_means_no_quota(demo_host):
    free = team_create(actor=None, name="free")
    limited = team_create(actor=None, name="limited", max_vms=1)
    vm = make_vm(demo_host)
    VirtualMachine.objects.filter(pk=vm.pk).update(team=free)
    # Neither a VM in no team nor a team without limits is refused anything, however much it asks
    # (quota_check raises QuotaExceeded to refuse, so returning is the answer "allowed").
    assert quota_check(None, vms=100) is None
    assert quota_check(free, vms=100, vcpus=1000, memory_mib=10**6, disk_gib=10**4) is None
    # A limit on VMs refuses the same request, and limits nothing else.
    with pytest.raises(QuotaExceeded, match="100 of VMs, over its quota of 1"):
        quota_check(limited, vms=100)
    assert quota_check(limited, vcpus=1000, memory_mib=10**6, disk_gib=10**4) is None
