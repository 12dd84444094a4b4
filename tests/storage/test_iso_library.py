"""Choosing a host's ISO library is an operation like every change, audited requested and
outcome; a refusal stays in the audit log (issue: teams stay apart, item 10)."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StoragePool
from apps.storage.services.pools import pool_set_iso_library


@pytest.fixture
def pools(demo_host):
    make = lambda name, **kw: StoragePool.objects.create(  # noqa: E731
        host=demo_host, uuid=uuid.uuid4(), name=name, pool_type="dir", **kw
    )
    return make("isos-old", is_iso_library=True), make("isos-new")


def test_the_library_moves_through_an_operation(pools, operator, django_capture_on_commit_callbacks):
    old, new = pools
    with django_capture_on_commit_callbacks(execute=False):
        op = pool_set_iso_library(actor=operator, pool=new, on=True)
    assert StoragePool.objects.get(pk=new.pk).is_iso_library is False, "nothing changes before the worker"
    op = operation_run(op.pk)
    assert op.status == "succeeded", op.error
    assert set(StoragePool.objects.filter(is_iso_library=True).values_list("name", flat=True)) == {"isos-new"}
    rows = AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("action", "outcome")
    assert list(rows) == [("pool.iso_library", "requested"), ("pool.iso_library", "succeeded")]


def test_a_refusal_through_the_page_is_audited_and_changes_nothing(pools, viewer):
    old, new = pools
    client = Client()
    client.force_login(viewer)
    response = client.post(reverse("storage:pool_iso_library", kwargs={"pk": new.pk}), {"on": "1"})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    assert StoragePool.objects.get(pk=old.pk).is_iso_library is True
    denied = AuditEvent.objects.get(actor=viewer, outcome="denied")
    assert denied.params == {"permission": "storage.manage"}


def test_the_service_refuses_without_the_right(pools, viewer):
    with pytest.raises(PermissionDenied):
        pool_set_iso_library(actor=viewer, pool=pools[1], on=True)
    assert AuditEvent.objects.filter(actor=viewer, outcome="denied").count() == 1
