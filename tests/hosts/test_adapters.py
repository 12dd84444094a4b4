import pytest

from apps.compute.virt import domains
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from apps.hosts.virt.info import host_info
from tests.helpers import TEST_URI, define_test_domain, unique


def test_host_info_through_the_daemon(test_driver):
    info = host_info(test_driver)
    assert info.driver == "TEST"
    assert info.libvirt_version.count(".") == 2
    assert info.cpus > 0 and info.memory_kib > 0


def test_two_connections_share_the_test_driver(test_driver):
    """The reason the demo uses test+unix:///default: state crosses connections (processes)."""
    name = unique()
    dom_uuid = define_test_domain(name)
    other = connection.open_connection(TEST_URI)
    try:
        assert domains.domain_info(other, dom_uuid).name == name
    finally:
        other.close()


def test_power_refusal_carries_libvirts_message(test_driver):
    dom_uuid = define_test_domain(start=True)
    with pytest.raises(VirtError, match="already running"):
        domains.power(test_driver, dom_uuid, "start")


def test_list_domains_reports_state_vcpus_memory(test_driver):
    dom_uuid = define_test_domain(start=True)
    found = {d.uuid: d for d in domains.list_domains(test_driver)}[dom_uuid]
    assert (found.state, found.vcpus, found.memory_kib) == ("running", 1, 256 * 1024)


def test_unreachable_uri_raises_a_readable_error_and_backs_off():
    uri = "test+unix:///default?socket=/nonexistent/libvirt-sock"
    with pytest.raises(VirtError) as first:
        connection.get(uri)
    assert "/nonexistent/libvirt-sock" in str(first.value)
    with pytest.raises(VirtError, match="Host unreachable"):
        connection.get(uri)  # within the backoff window: no new attempt
    connection.drop(uri)


def test_domain_info_of_a_removed_domain_is_none(test_driver):
    dom_uuid = define_test_domain()
    domains.undefine(test_driver, dom_uuid)
    assert domains.domain_info(test_driver, dom_uuid) is None
