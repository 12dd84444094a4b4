"""A NIC connects a VM to the host's network: a VM editor may join a libvirt network or a bridge an
administrator opened to VM users, but not the management bridge, a macvtap uplink or Open vSwitch
(issue: teams stay apart, item 7)."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, role_create
from apps.audit.models import AuditEvent
from apps.authz.models import Grant
from apps.compute.services import nics as nic_services
from apps.hosts.services import host_set_vm_bridges
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(outsider, demo_host):
    role_create(actor=None, name="VM editor", permissions=["vm.view", "vm.edit", "network.use"])
    grant_add(actor=None, user=outsider, role="VM editor", scope=demo_host)
    return outsider


def _post(user, vm, **data):
    client = Client()
    client.force_login(user)
    form = {"kind": "bridge", "source": "", "model": "virtio", "scope": "config", **data}
    return client.post(reverse("compute:vm_nic_add", kwargs={"pk": vm.pk}), form)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "bridge", "source": "br-mgmt"},
        {"kind": "direct", "source": "eth0", "mode": "passthrough"},
        {"kind": "direct", "source": "eth0", "mode": "bridge"},
        {"kind": "ovs", "source": "ovsbr0"},
    ],
    ids=["management-bridge", "macvtap-passthrough", "macvtap-bridge", "openvswitch"],
)
def test_a_vm_editor_cannot_join_the_hosts_own_network(demo_host, editor, data):
    vm = make_vm(demo_host)
    response = _post(editor, vm, **data)
    assert response.status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.get(actor=editor, outcome="denied").params == {"permission": "network.manage"}


def test_a_libvirt_network_and_an_opened_bridge_are_fine(demo_host, editor, django_capture_on_commit_callbacks):
    vm = make_vm(demo_host)
    host_set_vm_bridges(actor=None, host=demo_host, bridges=["br-guests"])
    with django_capture_on_commit_callbacks(execute=False):
        assert _post(editor, vm, kind="network", network="default", source="default").status_code in (200, 302)
        assert _post(editor, vm, kind="bridge", source="br-guests").status_code in (200, 302)
    assert sorted(Operation.objects.values_list("params__source", flat=True)) == ["br-guests", "default"]
    assert _post(editor, vm, kind="bridge", source="br-mgmt").status_code == 403


def test_only_who_manages_the_host_opens_bridges(demo_host, editor):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        host_set_vm_bridges(actor=editor, host=demo_host, bridges=["br-mgmt"])
    demo_host.refresh_from_db()
    assert demo_host.vm_bridges == []


def test_the_worker_checks_the_right_again(demo_host, editor, django_capture_on_commit_callbacks):
    role_create(actor=None, name="Net admin", permissions=["network.manage"])
    grant = grant_add(actor=None, user=editor, role="Net admin", scope=demo_host)
    vm = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        op = nic_services.vm_nic_add(actor=editor, vm=vm, kind="bridge", source="br-mgmt", live=False)
    Grant.objects.filter(pk=grant.pk).delete()
    op = operation_run(op.pk)
    assert op.status == "failed" and op.error.startswith("You may not create, change and remove networks")


# -- a libvirt network needs a right on that network (issue: teams stay apart, item 7) ------------


@pytest.fixture
def team_a_user(outsider, demo_host):
    """Edits VMs on the host and may plug them into team A's network only."""
    import uuid

    from apps.network.models import VirtualNetwork

    team_a = VirtualNetwork.objects.create(host=demo_host, uuid=uuid.uuid4(), name="team-a", active=True)
    role_create(actor=None, name="VM editor only", permissions=["vm.view", "vm.edit"])
    role_create(actor=None, name="Network user", permissions=["network.view", "network.use"])
    grant_add(actor=None, user=outsider, role="VM editor only", scope=demo_host)
    grant_add(actor=None, user=outsider, role="Network user", scope=team_a)
    return outsider


def test_a_nic_on_a_network_the_user_has_no_right_on_is_refused(demo_host, team_a_user):
    import html

    from apps.network.models import VirtualNetwork

    vm = make_vm(demo_host)
    client = Client(enforce_csrf_checks=True)
    client.force_login(team_a_user)
    client.get(reverse("compute:vm_detail", kwargs={"pk": vm.pk}))  # the page sets the CSRF cookie
    response = client.post(
        reverse("compute:vm_nic_add", kwargs={"pk": vm.pk}),
        {"kind": "network", "network": "default", "source": "default", "model": "virtio", "scope": "config"},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 403
    assert "You may not connect virtual machines' NICs to networks here." in html.unescape(response.content.decode())
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(actor=team_a_user, outcome="denied")
    default = VirtualNetwork.objects.get(host=demo_host, name="default")
    assert (denied.params, denied.target_type, denied.target_id) == (
        {"permission": "network.use"}, "network", str(default.pk),
    )  # fmt: skip
