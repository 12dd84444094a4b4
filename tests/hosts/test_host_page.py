"""The host page and the capabilities adapter, against the test driver and the real QEMU driver."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.hosts.models import Host
from apps.hosts.monitor import read_host
from apps.hosts.services import host_mark_up
from apps.hosts.virt import capabilities
from apps.hosts.virt.connection import connected
from tests.helpers import QEMU_URI, TEST_URI, make_vm


def _seen(host, conn):
    """What the monitor stores when it connects, done here without a monitor."""
    host_mark_up(host=host, **read_host(conn))
    return host


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_test_driver_capabilities_parse(test_driver):
    caps = capabilities.host_capabilities(test_driver)
    assert caps.arch == "i686"
    assert caps.cpu_model == "" and caps.sockets is None  # the test driver reports neither
    assert [c.id for c in caps.numa_cells] == [0, 1]
    assert caps.numa_cells[0].memory_kib == 2097152 and len(caps.numa_cells[1].cpus) == 8
    assert {g.os_type for g in caps.guests} == {"hvm", "xen"}
    assert caps.domain_types == ["test"] and caps.best_domain_type() == "test" and not caps.has_kvm
    assert caps.iommu_support is False
    assert caps.node_devices >= 3  # the test driver's own: computer, scsi_host1, scsi_host2 (tests may add more)
    # The test driver has no domain capabilities: None, not an error.
    assert capabilities.domain_capabilities(test_driver) is None


def test_qemu_capabilities_parse(qemu_conn):
    caps = capabilities.host_capabilities(qemu_conn)
    assert caps.arch and caps.cpu_model and caps.sockets and caps.cores and caps.threads
    assert "qemu" in caps.domain_types
    x86 = [g for g in caps.guests if g.arch == caps.arch and g.os_type == "hvm"]
    assert x86 and any(m.startswith("pc") for m in x86[0].machines)
    dom = capabilities.domain_capabilities(qemu_conn)
    assert dom is not None and dom.arch == caps.arch and dom.domain_type == caps.best_domain_type()
    assert "host-passthrough" in dom.cpu_modes or "maximum" in dom.cpu_modes
    assert dom.max_vcpus and dom.emulator.startswith("/")
    assert isinstance(dom.uefi, bool)
    assert caps.node_devices >= 1  # the node device driver answers: at least the "computer" itself


def test_domain_capabilities_parse_firmware_and_modes():
    xml = """<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain>
      <machine>pc-q35-7.2</machine><arch>x86_64</arch><vcpu max='288'/>
      <os supported='yes'><enum name='firmware'><value>efi</value></enum>
        <loader supported='yes'><value>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</value>
          <enum name='secure'><value>yes</value><value>no</value></enum></loader></os>
      <cpu><mode name='host-passthrough' supported='yes'/><mode name='maximum' supported='no'/>
        <mode name='custom' supported='yes'><model usable='yes'>EPYC</model><model usable='no'>Icelake</model></mode>
      </cpu></domainCapabilities>"""
    dom = capabilities.parse_domain_capabilities(xml)
    assert dom.uefi and dom.secure_boot and dom.max_vcpus == 288 and dom.machine == "pc-q35-7.2"
    assert dom.cpu_modes == ("host-passthrough", "custom") and dom.cpu_models == ("EPYC",)
    bare = capabilities.parse_domain_capabilities("<domainCapabilities/>")
    assert not bare.uefi and bare.cpu_modes == () and bare.max_vcpus is None


def test_page_for_admin_shows_facts_capabilities_and_validation(demo_host, admin, test_driver):
    _seen(demo_host, test_driver)
    vm = make_vm(demo_host)
    response = _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="validation-table"' in html and "virt-host-validate" in html
    assert "applies to QEMU/KVM hosts" in html  # the demo host runs the test driver
    assert 'id="numa-cells"' in html and "i686" in html
    assert "does not report domain capabilities" in html
    assert f"?host={demo_host.pk}" in html and reverse("storage:pool_list") in html
    # The VMs on it, linked; its networks come from the network app's table, loaded into the page.
    assert reverse("compute:vm_detail", kwargs={"pk": vm.pk}) in html and vm.name in html
    assert f'{reverse("network:network_list")}?host={demo_host.pk}' in html
    assert reverse("network:host_wiring", args=[demo_host.pk]) in html
    assert "Edit…" in html and "Remove…" in html


def test_page_renders_from_the_database_while_the_host_is_down(demo_host, admin, test_driver):
    """What the monitor stored stays on the page when the host goes away, with the reason."""
    _seen(demo_host, test_driver)
    Host.objects.filter(pk=demo_host.pk).update(
        uri="test+unix:///default?socket=/nonexistent/sock",
        state="down",
        last_error="Failed to connect socket to '/nonexistent/sock'",
    )
    html = _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk})).content.decode()
    assert "Last error: Failed to connect socket" in html
    assert 'id="numa-cells"' in html and "the last the host reported" in html


def test_host_list_links_to_the_page(demo_host, admin):
    html = _client(admin).get(reverse("hosts:host_list")).content.decode()
    assert reverse("hosts:host_detail", kwargs={"pk": demo_host.pk}) in html
    assert reverse("hosts:host_add") in html


def test_outsider_gets_404_like_a_missing_host(demo_host, outsider, admin):
    assert _client(outsider).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk})).status_code == 404
    assert _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk + 999})).status_code == 404


def test_viewer_sees_the_page_without_the_manage_buttons(demo_host, viewer):
    response = _client(viewer).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Remove…" not in html and reverse("hosts:host_edit", kwargs={"pk": demo_host.pk}) not in html
    assert reverse("hosts:host_add") not in _client(viewer).get(reverse("hosts:host_list")).content.decode()


def test_host_never_reached_says_not_read_yet(db, admin):
    host = Host.objects.create(
        name="gone",
        uri="test+unix:///default?socket=/nonexistent/sock",
        state="down",
        last_error="Failed to connect socket to '/nonexistent/sock'",
    )
    response = _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": host.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Last error: Failed to connect socket" in html and "/nonexistent/sock" in html
    assert "Not read yet: the monitor reads them when it connects" in html
    assert 'id="validation-table"' in html


def test_local_qemu_host_page_reads_this_machine(db, admin, qemu_conn):
    host = _seen(Host.objects.create(name="local", uri=QEMU_URI), qemu_conn)
    html = _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": host.pk})).content.decode()
    assert "read from this machine" in html and "/dev/net/tun" in html and "Domain capabilities" in html
    caps = capabilities.host_capabilities(qemu_conn)
    assert "Max vCPUs" in html and caps.cpu_model in html and f"{caps.sockets} socket(s)" in html
    assert "host-passthrough" in html or "maximum" in html  # CPU modes from domain capabilities
    assert any(m in html for g in caps.guests for m in g.machines[:1])  # machine types
    assert 'id="numa-cells"' in html and host.libvirt_version and host.libvirt_version in html


def test_htmx_resync_gets_only_the_body(demo_host, admin):
    response = _client(admin).get(reverse("hosts:host_detail", kwargs={"pk": demo_host.pk}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="host-body-{demo_host.pk}"') and "<html" not in html


@pytest.mark.parametrize("uri", [TEST_URI])
def test_adapter_calls_go_through_the_connection_cache(uri, test_driver):
    with connected(uri) as conn:
        assert capabilities.host_capabilities(conn).guests
