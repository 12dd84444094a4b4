"""Device-backed pools give their creator the host's block devices, and a directory pool over
libvirt's own state hands out other VMs' NVRAM and memory: who may define which (issue: teams stay
apart, item 5)."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.operations.models import Operation
from apps.storage.pool_policy import PoolPolicyError, target_problem
from apps.storage.services.pools import pool_create
from tests.conftest import PASSWORD

LOGICAL = "<pool type='logical'><name>vg0</name><source><device path='/dev/sda'/><name>vg0</name></source></pool>"
DISK = "<pool type='disk'><name>sdb</name><source><device path='/dev/sdb'/></source><target><path>/dev</path></target></pool>"


def _client(user):
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("xml", [LOGICAL, DISK], ids=["logical", "disk"])
def test_a_storage_manager_cannot_define_a_pool_over_the_hosts_devices(xml, demo_host, operator):
    response = _client(operator).post(reverse("storage:pool_new_xml"), {"host": demo_host.pk, "xml": xml})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(actor=operator, outcome="denied")
    assert denied.params == {"permission": "host.manage"}


def test_who_manages_the_host_may(demo_host, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        op = pool_create(actor=admin, host=demo_host, name="vg0", xml=LOGICAL)
    assert op.kind == "pool.create"


@pytest.mark.parametrize(
    "path",
    ["/var/lib/libvirt/qemu/nvram", "/var/lib/libvirt/qemu", "/var/lib/libvirt", "/var/lib/libvirt/dnsmasq/x", "/etc/x"],
)
def test_directory_pools_never_cover_libvirts_state(path, demo_host, operator):
    xml = f"<pool type='dir'><name>p</name><target><path>{path}</path></target></pool>"
    with pytest.raises(PoolPolicyError):
        pool_create(actor=operator, host=demo_host, name="p", xml=xml)
    assert not Operation.objects.exists()


def test_the_prefixes_hold_and_images_stay_allowed(settings):
    assert target_problem("/var/lib/libvirt/images/fast") == ""
    assert target_problem("/srv/pools/a") == ""
    assert "under" in target_problem("/opt/pools")
    settings.KVMWEB_POOL_PATH_PREFIXES = ["/"]
    assert "libvirt or the system" in target_problem("/var/lib/libvirt/qemu/save")
    assert "libvirt or the system" in target_problem("/root/pool")


def test_the_worker_checks_again(demo_host, operator, django_capture_on_commit_callbacks):
    """A right revoked, or a definition changed in between: the runner's policy refuses it."""
    from apps.operations.services import operation_run

    xml = "<pool type='dir'><name>p</name><target><path>/srv/p</path></target></pool>"
    with django_capture_on_commit_callbacks(execute=False):
        op = pool_create(actor=operator, host=demo_host, name="p", xml=xml)
    Operation.objects.filter(pk=op.pk).update(params={**op.params, "xml": LOGICAL})
    op = operation_run(op.pk)
    assert op.status == "failed" and op.error.startswith("A logical pool uses the host's own devices")


def test_a_pool_over_libvirts_state_through_the_page_is_a_form_error(demo_host, operator):
    """The prefixes allow /var/lib/libvirt/, and the form's own checks pass: the service's refusal
    comes back on the form, not as a server error."""
    xml = "<pool type='dir'><name>nvram</name><target><path>/var/lib/libvirt/qemu/nvram</path></target></pool>"
    response = _client(operator).post(reverse("storage:pool_new_xml"), {"host": demo_host.pk, "xml": xml})
    assert response.status_code == 200
    assert "belongs to libvirt or the system" in response.content.decode()
    assert not Operation.objects.exists()
