"""Volume views through the Django test client: who may, what the page shows, what each answers."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.operations.models import Operation
from apps.storage.models import StorageVolume
from apps.storage.services import transfer
from apps.storage.services.pipe import CHUNK_SIZE, Pipe
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume
from tests.helpers import unique

pytestmark = pytest.mark.django_db
MiB = 1 << 20


@pytest.fixture
def pool(demo_host, test_driver):
    uuid = test_driver.storagePoolLookupByName("default-pool").UUIDString()
    pool = pool_refresh_inventory(test_driver, demo_host, uuid)
    yield pool
    for info in volume_virt.list_volumes(test_driver, uuid):
        if info.name.startswith("tv-"):
            volume_virt.delete_quietly(test_driver, uuid, info.name)


@pytest.fixture
def volume(pool, test_driver):
    name = unique("tv")
    volume_virt.create(test_driver, str(pool.uuid), Volume(name=name, capacity=8 * MiB, format="qcow2").to_xml())
    pool_refresh_inventory(test_driver, pool.host, str(pool.uuid))
    return StorageVolume.objects.get(pool=pool, name=name)


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_a_viewer_gets_403_on_every_volume_action(pool, volume, viewer, operator):
    upload = transfer.volume_upload(actor=operator, pool=pool, name=unique("tv"), size=10)
    download = transfer.volume_download(actor=operator, volume=volume)
    c = client_for(viewer)
    posts = [
        reverse("storage:volume_create", args=[pool.pk]),
        reverse("storage:volume_upload", args=[pool.pk]),
        reverse("storage:volume_download", args=[volume.pk]),
        *(reverse("storage:volume_action", args=[volume.pk, a]) for a in ("resize", "clone", "wipe", "delete")),
        reverse("storage:transfer_chunk", args=[upload.pk]) + "?offset=0",
        reverse("storage:transfer_cancel", args=[upload.pk]),
    ]
    for url in posts:
        assert c.post(url, {"name": "x", "capacity": "1", "new_name": "y", "size": "5"}).status_code == 403, url
    assert c.get(reverse("storage:transfer_stream", args=[download.pk])).status_code == 403
    assert Operation.objects.count() == 2  # only the operator's


def test_the_pool_page_lists_volumes_with_their_actions_and_forms(pool, volume, operator, viewer):
    page = client_for(operator).get(reverse("storage:pool_detail", args=[pool.pk])).content.decode()
    assert 'id="volume-table"' in page and f'data-name="{volume.name}"' in page
    assert "Capacity (virtual size)" in page and "Allocation (disk size)" in page and "Backing file" in page
    assert reverse("storage:volume_action", args=[volume.pk, "resize"]) in page
    assert 'id="volume-create"' in page and 'id="volume-upload"' in page and "js/volumes.js" in page
    page = client_for(viewer).get(reverse("storage:pool_detail", args=[pool.pk])).content.decode()
    assert f'data-name="{volume.name}"' in page
    assert "volume-actions" not in page and 'id="volume-create"' not in page


def test_the_iso_library_offers_upload_iso(pool, operator):
    pool.is_iso_library = True
    pool.save(update_fields=["is_iso_library"])
    page = client_for(operator).get(reverse("storage:pool_detail", args=[pool.pk])).content.decode()
    assert "Upload ISO" in page and 'accept=".iso' in page


def test_create_by_htmx_queues_and_answers_with_a_fresh_form(pool, operator):
    name = unique("tv")
    url = reverse("storage:volume_create", args=[pool.pk])
    data = {"name": name, "capacity": "64", "unit": "MiB", "format": "qcow2", "allocation": "sparse"}
    response = client_for(operator).post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    op = Operation.objects.get()
    assert (op.kind, op.params["capacity"]) == ("volume.create", 64 * MiB)
    body = response.content.decode()
    assert f"operation #{op.pk}" in body and f'value="{name}"' not in body  # a fresh form for the next one


def test_bad_create_answers_with_the_errors_and_changes_nothing(pool, operator):
    url = reverse("storage:volume_create", args=[pool.pk])
    data = {"name": "-x", "capacity": "0", "unit": "GiB", "format": "raw", "allocation": "sparse"}
    c = client_for(operator)
    response = c.post(url, data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "cannot start with" in body and "more than 0" in body
    assert c.post(url, data).status_code == 400  # without htmx: the whole page, as a bad request
    assert Operation.objects.count() == 0


def test_row_actions_answer_in_the_message_area(pool, volume, operator):
    c = client_for(operator)
    resize = reverse("storage:volume_action", args=[volume.pk, "resize"])
    body = c.post(resize, {"capacity": "4", "unit": "MiB"}, HTTP_HX_REQUEST="true").content.decode()
    assert "volume-message" in body and "allow shrinking" in body
    body = c.post(resize, {"capacity": "4", "unit": "MiB", "shrink": "on"}, HTTP_HX_REQUEST="true").content.decode()
    assert "queued" in body
    assert Operation.objects.get().params == {
        "pool_id": pool.pk,
        "name": volume.name,
        "capacity": 4 * MiB,
        "shrink": True,
    }
    clone = reverse("storage:volume_action", args=[volume.pk, "clone"])
    assert "already exists" in c.post(clone, {"new_name": volume.name}, HTTP_HX_REQUEST="true").content.decode()
    assert c.post(reverse("storage:volume_action", args=[volume.pk, "explode"])).status_code == 404


def test_upload_start_declares_and_answers_json(pool, operator):
    c = client_for(operator)
    url = reverse("storage:volume_upload", args=[pool.pk])
    response = c.post(url, {"name": "tv-disk.iso", "size": "12345"})
    assert response.status_code == 201
    job = response.json()
    assert job["chunk_size"] == CHUNK_SIZE and job["size"] == 12345
    assert job["chunk_url"] == reverse("storage:transfer_chunk", args=[job["operation"]])
    bad = c.post(url, {"name": "../x", "size": "10"})
    assert bad.status_code == 400 and "'/'" in bad.json()["error"]
    assert c.post(url, {"name": "tv-ok", "size": "0"}).json()["error"] == "The file is empty."
    chunk = c.post(job["chunk_url"] + "?offset=0", b"z" * 100, content_type="application/octet-stream")
    assert chunk.status_code == 200 and chunk.json()["received"] == 100
    wrong = c.post(job["chunk_url"] + "?offset=7", b"z", content_type="application/octet-stream")
    assert wrong.status_code == 409 and wrong.json()["received"] == 100
    assert c.post(job["chunk_url"], b"z", content_type="application/octet-stream").status_code == 400
    cancelled = c.post(job["cancel_url"]).json()
    assert cancelled["status"] == "cancelled"
    late = c.post(job["chunk_url"] + "?offset=100", b"z", content_type="application/octet-stream")
    assert late.status_code == 410
    Pipe(job["operation"]).close()


def test_download_queues_and_sends_the_browser_to_the_stream(pool, volume, operator):
    c = client_for(operator)
    response = c.post(reverse("storage:volume_download", args=[volume.pk]))
    op = Operation.objects.get(kind="volume.download")
    assert response.status_code == 302 and response["Location"] == reverse("storage:transfer_stream", args=[op.pk])
    Operation.objects.filter(pk=op.pk).update(status="failed", error="boom")
    gone = c.get(response["Location"])
    assert gone.status_code == 410 and gone.content == b"boom"
