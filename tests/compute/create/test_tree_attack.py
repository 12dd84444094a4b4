"""The attack of issue 9, item 1, through the wizard's URL: a tree whose .treeinfo names
file:///etc/passwd as its kernel, and a tree on an inner address. Before, the worker copied the
host's /etc/passwd into a pool volume and the operation "succeeded"."""

import functools
import http.server
import threading

import pytest
from django.test import Client
from django.urls import reverse

from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import volumes as volume_virt
from tests.helpers import unique

pytestmark = pytest.mark.django_db


@pytest.fixture
def evil_tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / ".treeinfo").write_text("[images-x86_64]\nkernel = file:///etc/passwd\ninitrd = file:///etc/shadow\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tree/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def wizard(demo_host, operator, test_driver):
    demo_host.state, demo_host.cpus, demo_host.memory_kib = "up", 8, 4 << 20
    demo_host.save()
    pool = pool_refresh_inventory(
        test_driver, demo_host, test_driver.storagePoolLookupByName("default-pool").UUIDString()
    )
    client = Client()
    client.force_login(operator)

    def create(tree_url):
        name = unique("tree")
        data = {
            "host": demo_host.pk, "name": name, "memory_mib": 256, "vcpus": 1, "source": "tree",
            "tree_url": tree_url, "disk_pool": pool.pk, "disk_gib": 1, "disk_format": "qcow2",
            "network": "default", "graphics": "vnc", "listen": "127.0.0.1", "firmware": "bios", "step": "create",
        }  # fmt: skip
        response = client.post(reverse("compute:vm_create"), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.content.decode()[:500]
        op = operation_run(Operation.objects.get(kind="vm.create", params__name=name).pk)
        names = {v.name for v in volume_virt.list_volumes(test_driver, str(pool.uuid))}
        return op, name, names

    return create


def test_a_tree_naming_a_host_file_as_its_kernel_is_refused(wizard, evil_tree, settings):
    settings.INSTALL_TREE_ALLOW = "127.0.0.0/8"  # an administrator allowed this local mirror
    op, name, volumes = wizard(evil_tree)
    assert op.status == "failed"
    assert "file:///etc/passwd" in op.error and "outside" in op.error
    assert not {f"{name}.vmlinuz", f"{name}.initrd", f"{name}.qcow2"} & volumes, "nothing fetched stays behind"


def test_a_tree_on_an_inner_address_is_refused_unless_allowed(wizard, evil_tree, settings):
    settings.INSTALL_TREE_ALLOW = ""
    op, name, volumes = wizard(evil_tree)
    assert op.status == "failed" and "KVMWEB_INSTALL_TREE_ALLOW" in op.error
    assert f"{name}.qcow2" not in volumes
