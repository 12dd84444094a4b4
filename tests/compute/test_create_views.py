"""The wizard's pages through the Django test client, on the test-driver host."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.operations.models import Operation
from tests.helpers import unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(demo_host):
    demo_host.state, demo_host.cpus, demo_host.memory_kib = "up", 8, 4 << 20
    demo_host.save()

    def _client(user):
        c = Client()
        c.force_login(user)
        return c

    return _client


def form(host, **kw):
    return {
        "host": host.pk, "name": unique("web"), "memory_mib": 256, "vcpus": 1, "source": "pxe",
        "disk_format": "qcow2", "network": "default", "graphics": "vnc", "listen": "127.0.0.1",
        "firmware": "bios", "start": "on", "step": "review",
    } | kw  # fmt: skip


def test_the_wizard_offers_the_hosts_networks_and_the_os_list(client_for, operator, demo_host):
    response = client_for(operator).get(reverse("compute:vm_create"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="default"' in page  # the test driver's network
    assert "Generic (a recent Linux)" in page and "Review XML" in page


def test_choosing_an_os_brings_its_recommended_sizes(client_for, operator, demo_host):
    data = form(demo_host, os_id="fedora36", memory_mib=64, step="refresh", changed="os_id")
    response = client_for(operator).post(reverse("compute:vm_create"), data, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="memory_mib" value="2048"' in page and 'name="disk_gib" value="20"' in page
    assert "Fedora Linux 36" in page


def test_os_search_returns_matching_options(client_for, operator, demo_host):
    response = client_for(operator).get(reverse("compute:vm_os_search"), {"q": "debian 11"})
    assert response.status_code == 200 and 'value="debian11"' in response.content.decode()


def test_review_shows_the_xml_and_create_queues_the_operation(client_for, operator, demo_host):
    c = client_for(operator)
    data = form(demo_host, os_id="debian11")
    response = c.post(reverse("compute:vm_create"), data, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "create-xml-preview" in page
    assert f"&lt;name&gt;{data['name']}&lt;/name&gt;" in page and "http://debian.org/debian/11" in page
    assert not Operation.objects.exists()  # reviewing changes nothing
    response = c.post(reverse("compute:vm_create"), data | {"step": "create"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith(reverse("compute:vm_list"))
    op = Operation.objects.get(kind="vm.create")
    assert op.params["name"] == data["name"] and op.host_id == demo_host.pk


@pytest.mark.parametrize("name", ["my vm", "<script>", "a&b", "../etc", "ünïcode"])
def test_bad_names_come_back_as_field_errors(name, client_for, operator, demo_host):
    response = client_for(operator).post(
        reverse("compute:vm_create"), form(demo_host, name=name, step="create"), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="name"' in page and "invalid-feedback" in page
    assert "<script>" not in page.replace('value="&lt;script&gt;"', "")  # escaped, never markup
    assert not Operation.objects.exists()


def test_vcpus_beyond_the_host_is_a_field_error(client_for, operator, demo_host):
    response = client_for(operator).post(reverse("compute:vm_create"), form(demo_host, vcpus=9), HTTP_HX_REQUEST="true")
    assert "has 8 CPUs" in response.content.decode()


def test_a_viewer_cannot_open_the_wizard(client_for, viewer):
    assert client_for(viewer).get(reverse("compute:vm_create")).status_code == 403


def test_define_xml_refuses_host_files_as_disks(client_for, operator, demo_host):
    xml = (
        '<domain type="test"><name>sneaky</name><memory unit="MiB">64</memory><vcpu>1</vcpu>'
        '<os><type>hvm</type></os><devices><disk type="file" device="disk"><source file="/etc/shadow"/>'
        '<target dev="vda"/></disk></devices></domain>'
    )
    response = client_for(operator).post(
        reverse("compute:vm_define_xml"), {"host": demo_host.pk, "xml": xml}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "/etc/shadow is not a volume of a pool you may use" in response.content.decode()
    assert not Operation.objects.exists()


def test_define_xml_checks_the_name_rule_and_queues(client_for, operator, demo_host):
    c = client_for(operator)
    bad = '<domain type="test"><name>a b</name><memory>65536</memory><os><type>hvm</type></os></domain>'
    response = c.post(reverse("compute:vm_define_xml"), {"host": demo_host.pk, "xml": bad}, HTTP_HX_REQUEST="true")
    assert "Use only ASCII letters" in response.content.decode()
    good = bad.replace("a b", "good-name")
    response = c.post(reverse("compute:vm_define_xml"), {"host": demo_host.pk, "xml": good}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"]
    assert Operation.objects.get(kind="vm.define").params["name"] == "good-name"
