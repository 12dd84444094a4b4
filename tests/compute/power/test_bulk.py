"""Bulk results say what was queued, then each VM's line follows its operation: the lines
re-read as a user's page does, and "Retry failed" queues the failed ones again."""

import pytest
from django.urls import reverse

from apps.operations.models import Operation
from tests.conftest import PASSWORD
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, operator):
    assert client.login(username=operator.username, password=PASSWORD)
    return client


def post(client, **data):
    return client.post(reverse("compute:vm_bulk"), data, HTTP_HX_REQUEST="true")


def test_the_result_says_queued_and_links_each_line(signed_in, demo_host, django_capture_on_commit_callbacks):
    a, b = make_vm(demo_host), make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        body = post(signed_in, action="start", vm=[a.pk, b.pk]).content.decode()
    assert "Start queued for 2 VMs." in body and "started" not in body
    for vm in (a, b):
        op = Operation.objects.get(target_id=str(vm.pk))
        assert f'id="op-line-{op.pk}"' in body
        assert reverse("compute:vm_detail", args=[vm.pk]) in body
        assert reverse("operations:operation_detail", args=[op.pk]) in body
    assert "Retry failed" in body  # shown by CSS only once a line has failed


def test_lines_are_re_read_with_how_each_operation_ended(signed_in, demo_host, django_capture_on_commit_callbacks):
    a, b = make_vm(demo_host), make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        post(signed_in, action="start", vm=[a.pk, b.pk])
    op_a, op_b = (Operation.objects.get(target_id=str(vm.pk)) for vm in (a, b))
    Operation.objects.filter(pk=op_a.pk).update(status="failed", error="Cannot write data: Broken pipe")
    Operation.objects.filter(pk=op_b.pk).update(status="succeeded")
    body = signed_in.get(reverse("compute:vm_bulk"), {"op": [op_a.pk, op_b.pk]}).content.decode()
    assert body.count('hx-swap-oob="true"') == 2
    assert "Cannot write data: Broken pipe" in body
    # Only the failed VM is offered again.
    assert f'name="retry" value="{a.pk}"' in body and f'value="{b.pk}"' not in body


def test_retry_queues_the_failed_ones_again(signed_in, demo_host, django_capture_on_commit_callbacks):
    a = make_vm(demo_host)
    with django_capture_on_commit_callbacks(execute=False):
        body = post(signed_in, action="start", retry=[a.pk]).content.decode()
    assert "Start queued for 1 VM." in body
    assert Operation.objects.filter(kind="vm.start", target_id=str(a.pk)).count() == 1


def test_lines_of_operations_the_user_may_not_see_are_left_out(client, demo_host, admin):
    from apps.accounts.services import grant_add, user_create
    from apps.compute.services import vm_power

    mine, other = make_vm(demo_host), make_vm(demo_host)
    user, _ = user_create(actor=None, username="vmu", password=PASSWORD)
    grant_add(actor=None, user=user, role="VM user", scope=mine)
    theirs = vm_power(actor=admin, vm=other, action="start")
    assert client.login(username="vmu", password=PASSWORD)
    body = client.get(reverse("compute:vm_bulk"), {"op": [theirs.pk]}).content.decode()
    assert f"op-line-{theirs.pk}" not in body and other.name not in body


def test_nothing_chosen_is_a_400(signed_in, demo_host):
    response = post(signed_in, action="start")
    assert response.status_code == 400
