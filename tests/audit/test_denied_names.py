"""A refusal on an object the user may not see is recorded as #id: their own "denied" rows must
not tell them the name of another team's VM (issue: teams stay apart, item 10)."""

from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.audit.models import AuditEvent
from apps.hosts.services import host_create
from tests.helpers import make_vm


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_vm_the_user_may_not_see_is_recorded_by_id(demo_host, outsider):
    vm = make_vm(demo_host, name="payroll-db")
    response = _client(outsider).post(reverse("compute:vm_power", kwargs={"pk": vm.pk, "action": "start"}))
    assert response.status_code in (403, 404)
    denied = AuditEvent.objects.get(actor=outsider, outcome="denied")
    assert (denied.target_type, denied.target_id, denied.target_name) == ("vm", str(vm.pk), f"#{vm.pk}")
    assert denied.host_name == f"#{demo_host.pk}", "nor the host's name, which they may not see either"
    assert "payroll-db" not in str(list(AuditEvent.objects.filter(actor=outsider).values()))


def test_a_vm_the_user_may_see_keeps_its_name(demo_host, viewer):
    vm = make_vm(demo_host, name="web-1")
    _client(viewer).post(reverse("compute:vm_power", kwargs={"pk": vm.pk, "action": "start"}))
    denied = AuditEvent.objects.get(actor=viewer, outcome="denied")
    assert (denied.target_name, denied.host_name) == ("web-1", demo_host.name)


def test_the_host_name_is_kept_for_who_sees_the_host(demo_host, outsider, test_driver):
    other = host_create(actor=None, name="other", uri="test:///default")
    grant_add(actor=None, user=outsider, role="Viewer", scope=other)
    grant_add(actor=None, user=outsider, role="Viewer", scope=demo_host)
    vm = make_vm(demo_host, name="seen")
    _client(outsider).post(reverse("compute:vm_power", kwargs={"pk": vm.pk, "action": "destroy"}))
    denied = AuditEvent.objects.get(actor=outsider, outcome="denied")
    assert (denied.target_name, denied.host_name) == ("seen", "demo")
