"""The create wizard and define-from-XML attacked as a browser would post them (issue: teams stay
apart, items 3 and 10): a volume of a pool the user may only see, an ISO from outside the host's
ISO library, a graphics password in hand-written XML."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, role_create
from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from tests.helpers import TEST_URI, created_domains, unique

pytestmark = pytest.mark.django_db
DEFAULT_POOL = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"  # the test driver's default-pool


@pytest.fixture
def host(demo_host):
    demo_host.state, demo_host.cpus, demo_host.memory_kib = "up", 8, 4 << 20
    demo_host.save()
    return demo_host


@pytest.fixture
def pool(host):
    return pool_refresh_inventory(connection.get(TEST_URI), host, DEFAULT_POOL)


@pytest.fixture
def creator(outsider, host, pool):
    """Creates VMs on the host and sees (does not use) its default pool: another team's VM user."""
    role_create(actor=None, name="Creator", permissions=["vm.view", "vm.create"])
    role_create(actor=None, name="Pool viewer", permissions=["storage.view"])
    grant_add(actor=None, user=outsider, role="Creator", scope=host)
    grant_add(actor=None, user=outsider, role="Pool viewer", scope=pool)
    return outsider


def _client(user):
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    c.get(reverse("compute:vm_create"))  # the page sets the CSRF cookie, as a browser gets it
    return c


def _post(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def _wizard(host, **kw):
    return {
        "host": host.pk, "name": unique("web"), "memory_mib": 256, "vcpus": 1, "disk_format": "qcow2",
        "network": "", "graphics": "vnc", "listen": "127.0.0.1", "firmware": "bios", "step": "create",
    } | kw  # fmt: skip


def _volume(pool, name, fmt="qcow2"):
    path = f"/default-pool/{name}"
    return StorageVolume.objects.create(pool=pool, name=name, key=path, path=path, format=fmt, capacity=1 << 20)


def test_the_wizard_refuses_to_import_a_volume_of_a_pool_the_user_only_sees(host, pool, creator):
    volume = _volume(pool, unique("theirs") + ".qcow2")
    client = _client(creator)
    page = _post(client, reverse("compute:vm_create"), _wizard(host, source="import", import_volume=volume.pk))
    assert page.status_code == 200
    assert "You may not attach volumes of pool default-pool to VMs." in html.unescape(page.content.decode())
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(actor=creator, outcome="denied")
    assert (denied.action, denied.params) == ("auth.denied", {"permission": "storage.use"})
    assert (denied.target_type, denied.target_name) == ("pool", "default-pool")


def test_the_wizard_refuses_an_iso_from_outside_the_iso_library(host, pool, operator):
    disk = _volume(pool, unique("someones-disk") + ".iso", fmt="raw")  # named like an ISO, in no library
    client = _client(operator)
    page = _post(client, reverse("compute:vm_create"), _wizard(host, source="iso", iso=disk.pk))
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert f"{disk.name} is not in demo's ISO library." in text
    assert not Operation.objects.exists()


def test_a_volume_of_a_pool_the_user_may_not_see_is_refused_without_its_name(host, pool, operator, outsider):
    role_create(actor=None, name="Creator only", permissions=["vm.view", "vm.create"])
    grant_add(actor=None, user=outsider, role="Creator only", scope=host)
    volume = _volume(pool, unique("payroll") + ".qcow2")
    page = _post(_client(outsider), reverse("compute:vm_create"), _wizard(host, source="import", import_volume=volume.pk))
    text = html.unescape(page.content.decode())
    assert page.status_code == 200 and "There is no such volume that you may see." in text
    assert volume.name not in text and "default-pool" not in text
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(actor=outsider, outcome="denied")
    assert (denied.params, denied.target_type, denied.target_name) == (
        {"permission": "storage.view"}, "volume", f"#{volume.pk}",
    )  # fmt: skip


DOMAIN = (
    "<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64'>hvm</type></os><devices><graphics type='vnc' port='-1' passwd='s3cr3t-vnc'/>"
    "</devices></domain>"
)


def test_define_from_xml_never_keeps_the_graphics_password(host, operator):
    name = unique("xml")
    client = _client(operator)
    page = _post(client, reverse("compute:vm_define_xml"), {"host": host.pk, "xml": DOMAIN.format(name=name)})
    assert page.status_code == 200 and page["HX-Redirect"]
    op = Operation.objects.get(kind="vm.define")
    assert "s3cr3t-vnc" not in str(AuditEvent.objects.filter(operation_id=op.pk).values_list("params", "changes"))
    op = operation_run(op.pk)
    assert op.status == "succeeded", op.error
    created_domains.append(str(VirtualMachine.objects.get(host=host, name=name).uuid))
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)
    records = AuditEvent.objects.filter(operation_id=op.pk).order_by("id")
    assert [r.outcome for r in records] == ["requested", "succeeded"]
    assert "s3cr3t-vnc" not in str([(r.params, r.changes, r.error) for r in records])
    assert "s3cr3t-vnc" in connection.get(TEST_URI).lookupByName(name).XMLDesc(1), "libvirt got the real password"
