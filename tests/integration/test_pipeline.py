"""The whole path with real processes: a POST, a Celery worker on Redis, libvirt, the monitor."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.hosts.models import Host
from apps.operations.models import Operation
from tests.conftest import PASSWORD
from tests.helpers import make_vm, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_click_travels_to_libvirt_and_back(stack, demo_host, operator):
    vm = make_vm(demo_host)
    client = Client()
    client.login(username=operator.username, password=PASSWORD)
    response = client.post(reverse("compute:vm_power", args=[vm.pk, "start"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    op = Operation.objects.get()
    wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=20, message="operation finished")
    op.refresh_from_db()
    assert op.status == "succeeded", (op.error, stack.log("worker"))
    assert op.task_id and op.started_at and op.finished_at
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "running", message="VM running")
    outcomes = list(
        AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("outcome", "actor_name", "source_ip")
    )
    assert outcomes == [("requested", operator.username, "127.0.0.1"), ("succeeded", operator.username, "127.0.0.1")]


def test_a_hypervisor_refusal_ends_failed_with_libvirts_message(stack, demo_host, operator):
    vm = make_vm(demo_host, start=True)
    client = Client()
    client.login(username=operator.username, password=PASSWORD)
    client.post(reverse("compute:vm_power", args=[vm.pk, "resume"]))
    wait_for(lambda: Operation.objects.filter(status="failed").exists(), timeout=20, message="failed operation")
    op = Operation.objects.get()
    assert "not paused" in op.error
    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed", error=op.error).exists()


def test_the_monitor_reports_an_unreachable_host_as_down(stack, db):
    host = Host.objects.create(name="ghost", uri="test+unix:///default?socket=/nonexistent/sock")
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "down", timeout=10, message="host down")
    assert "nonexistent" in Host.objects.get(pk=host.pk).last_error
