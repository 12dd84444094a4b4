"""The wizard's pages through the Django test client, on the test-driver host."""

import uuid as uuidlib

import pytest
from django.test import Client
from django.urls import reverse

from apps.operations.models import Operation
from apps.storage.models import StoragePool, StorageVolume
from tests.helpers import define_test_domain, unique

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


# -- defaults that lead somewhere (issue 10, item 6) ---------------------------------------------


def _pool(host, name, pool_type="dir", **kw):
    return StoragePool.objects.create(
        host=host,
        uuid=uuidlib.uuid4(),
        name=name,
        pool_type=pool_type,
        state="running",
        target_path=f"/srv/{name}",
        **kw,
    )


def _volume(pool, name, path=None):
    path = path or f"{pool.target_path}/{name}"
    return StorageVolume.objects.create(pool=pool, name=name, key=path, path=path, format="raw", capacity=1)


def test_a_chosen_host_brings_its_default_pool_and_network(client_for, operator, demo_host):
    _pool(demo_host, "aaa-first")
    default = _pool(demo_host, "default")
    page = client_for(operator).get(reverse("compute:vm_create"), {"host": demo_host.pk}).content.decode()
    assert f'<option value="{default.pk}" selected>default (dir)</option>' in page
    assert '<option value="default" selected>default</option>' in page
    # No pool is the ISO library: the page says so and links to where one is set.
    assert "has no ISO library yet" in page and f'href="/storage/?host={demo_host.pk}"' in page


def test_without_a_pool_named_default_the_first_directory_pool_is_proposed(client_for, operator, demo_host):
    _pool(demo_host, "aaa-logical", pool_type="logical")
    first_dir = _pool(demo_host, "bbb-dir")
    page = client_for(operator).get(reverse("compute:vm_create"), {"host": demo_host.pk}).content.decode()
    assert f'<option value="{first_dir.pk}" selected>bbb-dir (dir)</option>' in page


def test_changing_the_host_drops_the_old_hosts_choices(client_for, operator, demo_host):
    default = _pool(demo_host, "default")
    data = form(demo_host, step="refresh", changed="host", disk_pool="999999", network="elsewhere", q="")
    page = client_for(operator).post(reverse("compute:vm_create"), data, HTTP_HX_REQUEST="true").content.decode()
    assert f'<option value="{default.pk}" selected>' in page and '<option value="default" selected>' in page
    # A refresh for the OS keeps what the user chose, "no new disk" included.
    data = form(demo_host, step="refresh", changed="os_id", disk_pool="", os_id="debian11", q="debian 11")
    page = client_for(operator).post(reverse("compute:vm_create"), data, HTTP_HX_REQUEST="true").content.decode()
    assert '<option value="" selected>no new disk</option>' in page
    assert 'value="debian 11"' in page  # the OS search keeps its words


def test_the_iso_library_is_offered_and_volumes_in_use_are_left_out(client_for, operator, demo_host):
    isos = _pool(demo_host, "isos", is_iso_library=True)
    _volume(isos, "debian-12.iso")
    data = _pool(demo_host, "data")
    _volume(data, "spare.img")
    name = unique("holder")
    define_test_domain(name)  # its disk is /var/lib/libvirt/images/<name>.qcow2
    _volume(data, f"{name}.qcow2", path=f"/var/lib/libvirt/images/{name}.qcow2")
    page = client_for(operator).get(reverse("compute:vm_create"), {"host": demo_host.pk}).content.decode()
    assert "debian-12.iso</option>" in page and "From isos, the ISO library of demo." in page
    assert "data/spare.img</option>" in page and f"data/{name}.qcow2</option>" not in page
    assert f"In use by other VMs, so not listed: {name}.qcow2 ({name})." in page
