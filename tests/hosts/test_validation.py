"""The virt-host-validate checks against fake /proc, /sys and /dev trees, and derived from capabilities."""

import pytest

from apps.hosts import validation as v
from apps.hosts.virt.capabilities import GuestArch, HostCapabilities


def _write(root, rel, text=""):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def by_name(results):
    return {r.name: r for r in results}


@pytest.mark.parametrize("flag", ["vmx", "svm"])
def test_hardware_virtualization_pass(tmp_path, flag):
    _write(tmp_path, "proc/cpuinfo", f"processor\t: 0\nflags\t\t: fpu sse2 {flag} avx\n")
    assert v.check_hardware_virtualization(tmp_path).status == v.PASS


def test_hardware_virtualization_missing_warns_like_the_tool(tmp_path):
    _write(tmp_path, "proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 hypervisor\n")
    result = v.check_hardware_virtualization(tmp_path)
    assert result.status == v.WARN and "emulated" in result.explanation and result.fix


def test_dev_kvm_pass_missing_and_unusable(tmp_path, monkeypatch):
    hw = v.CheckResult("hw", v.PASS, "")
    assert v.check_dev_kvm(tmp_path, hw).status == v.FAIL
    assert "kvm-intel" in v.check_dev_kvm(tmp_path, hw).fix
    _write(tmp_path, "dev/kvm")
    assert v.check_dev_kvm(tmp_path, hw).status == v.PASS
    # Tests may run as root, for whom os.access always says yes: ask the check's own question.
    monkeypatch.setattr(v.os, "access", lambda path, mode: not str(path).endswith("dev/kvm"))
    result = v.check_dev_kvm(tmp_path, hw)
    assert result.status == v.FAIL and "kvm' group" in result.fix


def test_dev_kvm_skipped_without_hardware_virtualization(tmp_path):
    assert v.check_dev_kvm(tmp_path, v.CheckResult("hw", v.WARN, "")).status == v.SKIP


def test_a_working_dev_kvm_outweighs_a_cpuinfo_that_hides_vmx(tmp_path):
    """Some hypervisors pass KVM through to a guest without showing vmx/svm in its cpuinfo."""
    _write(tmp_path, "proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 hypervisor\n")
    _write(tmp_path, "dev/kvm")
    results = by_name(v.validate_local(tmp_path))
    assert results["/dev/kvm present and usable"].status == v.PASS
    assert results["Hardware virtualization"].status == v.PASS
    assert "/dev/kvm works" in results["Hardware virtualization"].explanation


def test_vhost_net_and_tun(tmp_path):
    assert v.check_vhost_net(tmp_path).status == v.WARN
    assert v.check_tun(tmp_path).status == v.FAIL
    _write(tmp_path, "dev/vhost-net")
    _write(tmp_path, "dev/net/tun")
    assert v.check_vhost_net(tmp_path).status == v.PASS
    assert v.check_tun(tmp_path).status == v.PASS


def test_cgroup_v2_all_present_and_implicit_ones_explained(tmp_path):
    _write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n")
    results = by_name(v.check_cgroups(tmp_path))
    assert len(results) == 6 and all(r.status == v.PASS for r in results.values())
    assert "built into 'cpu'" in results["cgroup 'cpuacct' controller"].explanation
    assert "eBPF" in results["cgroup 'devices' controller"].explanation
    assert "'io'" in results["cgroup 'blkio' controller"].explanation


def test_cgroup_v2_missing_controllers_warn(tmp_path):
    _write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpu pids\n")
    results = by_name(v.check_cgroups(tmp_path))
    assert results["cgroup 'cpu' controller"].status == v.PASS
    for ctrl in ("cpuset", "memory", "blkio"):
        assert results[f"cgroup '{ctrl}' controller"].status == v.WARN
        assert results[f"cgroup '{ctrl}' controller"].fix


PROC_CGROUPS = """#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t2\t1\t1
cpu\t3\t1\t1
cpuacct\t3\t1\t1
blkio\t4\t1\t1
memory\t5\t1\t1
devices\t6\t1\t{devices}
"""


def test_cgroup_v1_all_mounted(tmp_path):
    _write(tmp_path, "proc/cgroups", PROC_CGROUPS.format(devices=1))
    for d in ("cpuset", "cpu,cpuacct", "blkio", "memory", "devices"):
        (tmp_path / "sys/fs/cgroup" / d).mkdir(parents=True)
    results = v.check_cgroups(tmp_path)
    assert [r.status for r in results] == [v.PASS] * 6
    assert all("v1" in r.explanation for r in results)


def test_cgroup_v1_disabled_or_unmounted(tmp_path):
    _write(tmp_path, "proc/cgroups", PROC_CGROUPS.format(devices=0))
    for d in ("cpuset", "cpu,cpuacct", "memory"):
        (tmp_path / "sys/fs/cgroup" / d).mkdir(parents=True)
    results = by_name(v.check_cgroups(tmp_path))
    assert results["cgroup 'cpuacct' controller"].status == v.PASS
    assert "not mounted" in results["cgroup 'blkio' controller"].explanation
    assert "not enabled" in results["cgroup 'devices' controller"].explanation
    assert results["cgroup 'devices' controller"].status == v.WARN


def test_no_cgroups_at_all(tmp_path):
    results = v.check_cgroups(tmp_path)
    assert len(results) == 6 and all(r.status == v.WARN for r in results)


def test_iommu_groups_cmdline_and_neither(tmp_path):
    _write(tmp_path, "proc/cmdline", "root=/dev/sda1 quiet\n")
    (tmp_path / "sys/kernel/iommu_groups").mkdir(parents=True)
    result = v.check_iommu(tmp_path)
    assert result.status == v.WARN and "intel_iommu=on" in result.fix
    _write(tmp_path, "proc/cmdline", "root=/dev/sda1 amd_iommu=on\n")
    assert v.check_iommu(tmp_path).status == v.PASS
    _write(tmp_path, "proc/cmdline", "root=/dev/sda1\n")
    (tmp_path / "sys/kernel/iommu_groups/0").mkdir()
    assert v.check_iommu(tmp_path).status == v.PASS


def test_validate_local_on_a_good_host(tmp_path):
    _write(tmp_path, "proc/cpuinfo", "flags\t\t: vmx\n")
    _write(tmp_path, "proc/cmdline", "intel_iommu=on\n")
    for dev in ("dev/kvm", "dev/vhost-net", "dev/net/tun"):
        _write(tmp_path, dev)
    _write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory\n")
    results = v.validate_local(tmp_path)
    assert len(results) == 11
    assert {r.status for r in results} == {v.PASS}, [r for r in results if r.status != v.PASS]


def test_validate_local_on_the_real_system_does_not_fail_to_run():
    results = v.validate_local()
    assert {r.status for r in results} <= {v.PASS, v.WARN, v.FAIL, v.SKIP}


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("qemu:///system", True),
        ("qemu:///session", True),
        ("qemu+ssh://root@h1/system", False),
        ("qemu+tls://h2/system", False),
        ("qemu://h3/system", False),
        ("test+unix:///default", False),
    ],
)
def test_is_local(uri, local):
    assert v.is_local(uri) is local


def _caps(types, iommu=None):
    guest = GuestArch("hvm", "x86_64", 64, "/usr/bin/qemu-system-x86_64", ("pc",), types)
    return HostCapabilities(arch="x86_64", guests=(guest,), iommu_support=iommu)


def test_remote_with_kvm_passes_what_libvirt_shows_and_skips_the_rest():
    results = by_name(v.validate_remote(_caps(("qemu", "kvm"), iommu=True)))
    assert results["Hardware virtualization"].status == v.PASS
    assert results["/dev/kvm present and usable"].status == v.PASS
    assert results["IOMMU enabled"].status == v.PASS
    for name in ("/dev/vhost-net", "/dev/net/tun", "cgroup 'memory' controller"):
        assert results[name].status == v.SKIP and "could not be checked remotely" in results[name].explanation


def test_remote_without_kvm_warns():
    results = by_name(v.validate_remote(_caps(("qemu",), iommu=False)))
    assert results["Hardware virtualization"].status == v.WARN
    assert results["/dev/kvm present and usable"].status == v.WARN
    assert results["IOMMU enabled"].status == v.WARN
    assert by_name(v.validate_remote(_caps(("qemu",))))["IOMMU enabled"].status == v.SKIP


def test_remote_unreadable_skips_everything():
    assert {r.status for r in v.validate_remote(None)} == {v.SKIP}


def test_validate_host_picks_local_remote_or_not_applicable(tmp_path):
    class H:
        uri = "qemu:///system"

    assert len(v.validate_host(H(), root=tmp_path)) == 11
    H.uri = "qemu+ssh://u@far/system"
    assert by_name(v.validate_host(H(), _caps(("kvm",))))["Hardware virtualization"].status == v.PASS
    H.uri = "test+unix:///default"
    (only,) = v.validate_host(H())
    assert only.status == v.SKIP and "'test' driver" in only.explanation


def test_remote_iommu_from_the_vfio_backend_in_domain_capabilities():
    from apps.hosts.virt.capabilities import parse_domain_capabilities

    vfio = parse_domain_capabilities(
        """<domainCapabilities><domain>kvm</domain><devices><hostdev supported='yes'>
        <enum name='pciBackend'><value>default</value><value>vfio</value></enum></hostdev></devices>
        </domainCapabilities>"""
    )
    assert vfio.pci_backends == ("default", "vfio")
    results = by_name(v.validate_remote(_caps(("kvm",)), vfio))
    assert results["IOMMU enabled"].status == v.PASS and "VFIO" in results["IOMMU enabled"].explanation
    without = parse_domain_capabilities("<domainCapabilities><domain>kvm</domain></domainCapabilities>")
    assert by_name(v.validate_remote(_caps(("kvm",)), without))["IOMMU enabled"].status == v.SKIP
