"""The QEMU process tab where there is no QEMU: explained, not an error."""

from django.urls import reverse

from apps.compute.virt import process
from tests.compute.overview.test_overview import _vm
from tests.conftest import PASSWORD


def test_the_test_driver_gets_an_explanation(client, demo_host, test_driver, viewer):
    vm = _vm(demo_host, test_driver, start=True)
    assert client.login(username=viewer.username, password=PASSWORD)
    response = client.get(reverse("compute:vm_process", args=[vm.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'data-tab="process"' in body
    assert 'id="process-unavailable"' in body and "driver is TEST, not QEMU" in body
    assert "vcpu-table" not in body


def test_adapter_on_the_test_driver(test_driver, demo_host):
    vm = _vm(demo_host, test_driver)
    info = process.process_info(test_driver, str(vm.uuid))
    assert not info.available and "TEST" in info.reason and not info.local


def test_cpusets_read_like_taskset():
    assert process.cpuset((True, True, False, True)) == "0-1,3"
    assert process.cpuset((False, True)) == "1"
    assert process.cpuset((True, True, True, True)) == "0-3"
    assert process.cpuset(()) == ""


def test_only_local_qemu_uris_count_as_local():
    class Conn:
        def __init__(self, uri):
            self.uri = uri

        def getURI(self):  # noqa: N802 - the shape of libvirt's connection
            return self.uri

    assert process.is_local(Conn("qemu:///system")) and process.is_local(Conn("qemu:///session"))
    assert not process.is_local(Conn("qemu+ssh://root@kvm2/system"))
    assert not process.is_local(Conn("qemu+tls://kvm2/system"))
    assert not process.is_local(Conn("test+unix:///default"))
