"""Creating pools: form validation, the type / form / preview / define pages, define from XML, who
may do it, and the whole path through a real worker to libvirt and back."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from apps.accounts.services import grant_add, user_create
from apps.audit.models import AuditEvent
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.storage.forms.pool_define_xml import PoolXMLForm
from apps.storage.forms.pools import POOL_FORMS
from apps.storage.models import Secret, StoragePool
from apps.storage.virt import pools as pool_virt
from tests.conftest import PASSWORD
from tests.helpers import TEST_URI, unique, wait_for

NEW_DIR = reverse("storage:pool_new_type", args=["dir"])
NEW_XML = reverse("storage:pool_new_xml")
DIR_XML = """<pool type="dir">
  <name>images-fast</name>
  <target>
    <path>/var/lib/libvirt/images-fast</path>
  </target>
</pool>
"""


def login(client, user):
    client.force_login(user)
    return client


def dir_data(host, **extra):
    return {"name": "images-fast", "host": str(host.pk), "target_path": "/var/lib/libvirt/images-fast", **extra}


def errors(pool_type, host, user, **data):
    form = POOL_FORMS[pool_type][1]({"host": str(host.pk), **data}, user=user)
    assert not form.is_valid()
    return form.errors


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "cannot contain '/'"),
        ("a..b", "cannot contain '..'"),
        ("-images", "cannot start with '-' or '.'"),
        (".images", "cannot start with '-' or '.'"),
        ("ima\x00ges", "Null characters are not allowed"),
        ("my pool", "Use only letters, digits and . _ -"),
        ("x" * 65, "at most 64"),
    ],
)
def test_bad_names_are_refused_with_a_reason(name, message, demo_host, admin):
    errs = errors("dir", demo_host, admin, name=name, target_path="/srv/x")
    assert any(message in e for e in errs["name"]), errs


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("images", "absolute path"),
        ("/srv/../etc/pools", "'..' is not allowed"),
        ("/etc/pools", "must be inside one of: /var/lib/libvirt/, /srv/, /mnt/, /data/"),
        ("/srv", "must be inside one of"),
        ("/srvx/images", "must be inside one of"),
        ("/srv/ima\nges", "control characters"),
    ],
)
def test_target_paths_must_be_absolute_and_allowed(path, message, demo_host, admin):
    errs = errors("dir", demo_host, admin, name="p", target_path=path)
    assert any(message in e for e in errs["target_path"]), errs


def test_paths_are_normalised(demo_host, admin):
    form = POOL_FORMS["dir"][1](dir_data(demo_host, target_path="/srv//images/./fast/"), user=admin)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target_path"] == "/srv/images/fast"


def test_the_allowed_prefixes_come_from_settings(demo_host, admin, settings):
    settings.KVMWEB_POOL_PATH_PREFIXES = ["/pools"]
    assert "inside one of: /pools/" in errors("dir", demo_host, admin, name="p", target_path="/srv/x")["target_path"][0]
    assert POOL_FORMS["dir"][1](dir_data(demo_host, target_path="/pools/a"), user=admin).is_valid()


def test_netfs_mount_points_are_held_to_the_same_prefixes(demo_host, admin):
    errs = errors(
        "netfs",
        demo_host,
        admin,
        name="n",
        netfs_format="nfs",
        server="nfs.example.com",
        source_path="/srv/x",
        target_path="/etc",
    )
    assert "must be inside one of" in errs["target_path"][0]


def test_netfs_source_depends_on_the_protocol(demo_host, admin):
    common = {"name": "n", "server": "nfs.example.com", "target_path": "/mnt/n"}
    assert (
        "absolute path"
        in errors("netfs", demo_host, admin, netfs_format="nfs", source_path="srv/x", **common)["source_path"][0]
    )
    assert (
        "'/'" in errors("netfs", demo_host, admin, netfs_format="cifs", source_path="a/b", **common)["source_path"][0]
    )


@pytest.mark.parametrize(
    "iqn",
    [
        "iqn.24-01.com.example:t",
        "iqn.2024-13.com.example:t",
        "iqn.2024-01.:t",
        "eui.02004567A425678D",
        "iqn.2024-01.com.example: t",
    ],
)
def test_bad_iqns_are_refused(iqn, demo_host, admin):
    errs = errors(
        "iscsi", demo_host, admin, name="i", portal="san.example.com", target_iqn=iqn, target_path="/dev/disk/by-path"
    )
    assert "An IQN looks like iqn.2024-01.com.example" in errs["target_iqn"][0]


def test_port_must_be_1_to_65535(demo_host, admin):
    base = {
        "name": "i",
        "portal": "san.example.com",
        "target_iqn": "iqn.2024-01.com.example:t",
        "target_path": "/dev/disk/by-path",
    }
    assert "greater than or equal to 1" in errors("iscsi", demo_host, admin, port="0", **base)["port"][0]
    assert "less than or equal to 65535" in errors("iscsi", demo_host, admin, port="65536", **base)["port"][0]
    errs = errors("rbd", demo_host, admin, name="r", monitors="mon1:0", ceph_pool="rbd")
    assert "from 1 to 65535" in errs["monitors"][0]


@pytest.mark.parametrize("mode", ["999", "0778", "7", "rwx", "04755"])
def test_mode_must_be_octal(mode, demo_host, admin):
    errs = errors("dir", demo_host, admin, name="p", target_path="/srv/p", mode=mode)
    assert errs["mode"]


def test_devices_must_be_under_dev(demo_host, admin):
    errs = errors("logical", demo_host, admin, name="l", vg_name="vg", devices="/dev/sdb\n/etc/passwd")
    assert "under /dev/" in errs["devices"][0]
    assert "devices to build" in errors("logical", demo_host, admin, name="l", vg_name="vg", build="on")["devices"][0]


def test_host_names_are_checked(demo_host, admin):
    errs = errors(
        "netfs",
        demo_host,
        admin,
        name="n",
        netfs_format="nfs",
        server="nfs;rm -rf",
        source_path="/x",
        target_path="/mnt/n",
    )
    assert "host name" in errs["server"][0]


def test_scsi_adapter_needs_its_own_fields(demo_host, admin):
    assert (
        "scsi_host2"
        in errors("scsi", demo_host, admin, name="s", adapter_type="scsi_host", target_path="/dev/disk/by-path")[
            "adapter_name"
        ][0]
    )
    errs = errors(
        "scsi", demo_host, admin, name="s", adapter_type="fc_host", wwnn="xyz", target_path="/dev/disk/by-path"
    )
    assert "16 hex digits" in errs["wwnn"][0] and "WWNN and WWPN" in errs["wwpn"][0]


def test_chap_needs_user_and_secret_and_the_secret_must_be_on_the_host(demo_host, admin):
    other = Host.objects.create(name="other", uri="test+unix:///default?other")
    secret = Secret.objects.create(
        host=other, uuid="6f2c3d8e-1b4a-4c5d-9e7f-0a1b2c3d4e5f", usage_type="iscsi", usage_id="x"
    )
    base = {
        "name": "i",
        "portal": "san.example.com",
        "target_iqn": "iqn.2024-01.com.example:t",
        "target_path": "/dev/disk/by-path",
    }
    assert "both" in errors("iscsi", demo_host, admin, chap_username="hv1", **base)["chap_secret"][0]
    errs = errors("iscsi", demo_host, admin, chap_username="hv1", chap_secret=str(secret.pk), **base)
    assert "lives on other" in errs["chap_secret"][0]


def test_secret_pickers_offer_only_matching_usage_and_link_to_new_secret(demo_host, admin):
    ceph = Secret.objects.create(
        host=demo_host, uuid="2ec115d7-3a88-3ceb-bc12-0ac909a6fd87", usage_type="ceph", usage_id="client.libvirt"
    )
    Secret.objects.create(
        host=demo_host, uuid="6f2c3d8e-1b4a-4c5d-9e7f-0a1b2c3d4e5f", usage_type="iscsi", usage_id="san"
    )
    gone = Secret.objects.create(
        host=demo_host, uuid="7f2c3d8e-1b4a-4c5d-9e7f-0a1b2c3d4e5f", usage_type="ceph", usage_id="old", present=False
    )
    form = POOL_FORMS["rbd"][1](user=admin, initial={"host": demo_host})
    assert list(form.fields["ceph_secret"].queryset) == [ceph] and gone not in form.fields["ceph_secret"].queryset
    assert f"/storage/secrets/new/?host={demo_host.pk}&amp;usage=ceph" in str(form.fields["ceph_secret"].help_text)


# -- the pages ----------------------------------------------------------------------------------


def test_type_page_lists_every_type_with_a_description(client, demo_host, operator):
    page = login(client, operator).get(reverse("storage:pool_new")).content.decode()
    for pool_type, (_label, form_class) in POOL_FORMS.items():
        assert f'data-type="{pool_type}"' in page and escape(form_class.description) in page
    assert NEW_XML in page


def test_pool_list_links_to_new_pool_only_for_managers(client, demo_host, operator, viewer):
    assert reverse("storage:pool_new") in login(client, operator).get(reverse("storage:pool_list")).content.decode()
    assert reverse("storage:pool_new") not in login(Client(), viewer).get(reverse("storage:pool_list")).content.decode()


@pytest.mark.parametrize("pool_type", sorted(POOL_FORMS))
def test_each_type_form_renders(pool_type, client, demo_host, operator):
    response = login(client, operator).get(reverse("storage:pool_new_type", args=[pool_type]), {"host": demo_host.pk})
    assert response.status_code == 200
    assert f'<option value="{demo_host.pk}" selected>' in response.content.decode()


def test_unknown_type_is_404(client, demo_host, operator):
    assert login(client, operator).get(reverse("storage:pool_new_type", args=["sheepdog"])).status_code == 404


@pytest.mark.parametrize("url", [reverse("storage:pool_new"), NEW_DIR, NEW_XML])
def test_without_storage_manage_the_pages_are_403_and_audited(url, client, demo_host, viewer):
    assert login(client, viewer).get(url).status_code == 403
    assert AuditEvent.objects.filter(outcome="denied", actor=viewer).exists()


def test_without_storage_manage_nothing_is_defined(client, demo_host, viewer, outsider):
    for user in (viewer, outsider):
        c = login(Client(), user)
        assert c.post(NEW_DIR, {**dir_data(demo_host), "step": "define"}).status_code == 403
        assert c.post(NEW_XML, {"host": demo_host.pk, "xml": DIR_XML}).status_code == 403
    assert not Operation.objects.exists()


def test_a_host_outside_the_users_grants_is_refused_and_audited(client, demo_host):
    other = Host.objects.create(name="other", uri="test+unix:///default?other")
    user, _ = user_create(actor=None, username="hanna-host-op", password=PASSWORD)
    grant_add(actor=None, user=user, role="Operator", scope=other)
    login(client, user)
    form_page = client.get(NEW_DIR).content.decode()
    assert f'value="{other.pk}"' in form_page and f'value="{demo_host.pk}"' not in form_page
    assert client.post(NEW_DIR, {**dir_data(demo_host), "step": "define"}).status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.filter(outcome="denied", actor=user, host_id=demo_host.pk).exists()


def test_preview_shows_the_escaped_xml_and_queues_nothing(client, demo_host, operator):
    page = login(client, operator).post(NEW_DIR, {**dir_data(demo_host), "mode": "0711"}).content.decode()
    assert (
        '<pre class="border rounded bg-body-tertiary p-2 small" id="pool-xml-preview">&lt;pool type=&quot;dir&quot;&gt;'
        in page
    )
    assert "&lt;mode&gt;0711&lt;/mode&gt;" in page
    assert 'name="step" value="define"' in page and 'name="step" value="back"' in page
    assert not Operation.objects.exists()


def test_htmx_preview_swaps_only_the_step(client, demo_host, operator):
    body = login(client, operator).post(NEW_DIR, dir_data(demo_host), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="pool-create-step">') and "<html" not in body


def test_invalid_form_comes_back_with_errors_not_a_preview(client, demo_host, operator):
    page = login(client, operator).post(NEW_DIR, dir_data(demo_host, target_path="/etc/x")).content.decode()
    assert "must be inside one of" in page and "pool-xml-preview" not in page


def test_back_returns_the_filled_form(client, demo_host, operator):
    page = login(client, operator).post(NEW_DIR, {**dir_data(demo_host), "step": "back"}).content.decode()
    assert 'value="/var/lib/libvirt/images-fast"' in page and 'value="preview"' in page


def test_define_queues_pool_create_with_the_previewed_xml(
    client, demo_host, operator, django_capture_on_commit_callbacks
):
    login(client, operator)
    data = {**dir_data(demo_host), "build": "True", "autostart": "False", "step": "define"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(NEW_DIR, data)
    assert (
        response.status_code == 302 and response["Location"] == reverse("storage:pool_list") + f"?host={demo_host.pk}"
    )
    op = Operation.objects.get()
    assert [cb.__name__ for cb in callbacks].count("send") == 1  # the task goes out only after commit
    assert (op.kind, op.status, op.target_name, op.host_id) == ("pool.create", "queued", "images-fast", demo_host.pk)
    assert op.params == {"name": "images-fast", "build": True, "start": True, "autostart": False, "xml": DIR_XML}


def test_htmx_define_redirects_the_browser(client, demo_host, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = login(client, operator).post(
            NEW_DIR, {**dir_data(demo_host), "step": "define"}, HTTP_HX_REQUEST="true"
        )
    assert response["HX-Redirect"] == reverse("storage:pool_list") + f"?host={demo_host.pk}"
    assert Operation.objects.get().params["xml"] == DIR_XML


def test_types_without_a_build_step_never_build(client, demo_host, operator, django_capture_on_commit_callbacks):
    data = {
        "name": "vz",
        "host": demo_host.pk,
        "cluster": "vz1",
        "target_path": "/mnt/vz",
        "build": "on",
        "step": "define",
    }
    with django_capture_on_commit_callbacks(execute=False):
        login(client, operator).post(reverse("storage:pool_new_type", args=["vstorage"]), data)
    assert Operation.objects.get().params["build"] is False


# -- define from XML ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<pool type='dir'><name>x</name>", "not well-formed XML"),
        ("<domain type='kvm'><name>x</name></domain>", "root element must be pool"),
        ("<pool type='sheepdog'><name>x</name></pool>", "Unknown pool type sheepdog"),
        ("<pool type='dir'><name>-x</name><target><path>/srv/x</path></target></pool>", "cannot start with"),
        ("<pool type='dir'><name>x</name><target><path>/etc/x</path></target></pool>", "must be inside one of"),
        ("<pool type='netfs'><name>x</name><target><path>/srv/../etc</path></target></pool>", "is not allowed"),
    ],
)
def test_define_from_xml_rejects_bad_documents(xml, message, client, demo_host, operator):
    page = login(client, operator).post(NEW_XML, {"host": demo_host.pk, "xml": xml}).content.decode()
    assert message in page
    assert not Operation.objects.exists()


def test_define_from_xml_queues_pool_create(client, demo_host, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = login(client, operator).post(
            NEW_XML, {"host": demo_host.pk, "xml": "<!-- mine -->\n" + DIR_XML, "autostart": "on"}
        )
    assert response.status_code == 302
    op = Operation.objects.get()
    assert op.target_name == "images-fast"
    assert op.params["autostart"] is True and op.params["build"] is False
    assert op.params["xml"].startswith('<pool type="dir">') and "mine" not in op.params["xml"]


def test_xml_form_exposes_the_parsed_name(demo_host, admin):
    form = PoolXMLForm({"host": demo_host.pk, "xml": DIR_XML}, user=admin)
    assert form.is_valid() and (form.pool_name, form.pool_type) == ("images-fast", "dir")


# -- through the real worker ----------------------------------------------------------------------


def _defined_pool_names():
    return {p.name for p in pool_virt.list_pools(connection.get(TEST_URI))}


@pytest.mark.django_db(transaction=True)
def test_a_dir_pool_defined_in_the_browser_runs_on_the_host(stack, demo_host, operator):
    name = unique("kvmweb-test")
    client = Client()
    client.login(username=operator.username, password=PASSWORD)
    data = {
        "name": name,
        "host": demo_host.pk,
        "target_path": f"/var/lib/libvirt/{name}",
        "build": "True",
        "autostart": "True",
    }
    response = client.post(NEW_DIR, {**data, "step": "define"})
    assert response.status_code == 302
    op = Operation.objects.get(kind="pool.create")
    try:
        wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=20, message="pool.create finished")
        op.refresh_from_db()
        assert op.status == "succeeded", (op.error, stack.log("worker"))
        pool = wait_for(
            lambda: StoragePool.objects.filter(host=demo_host, name=name, state="running").first(),
            message="pool row running",
        )
        assert pool.pool_type == "dir" and pool.target_path == f"/var/lib/libvirt/{name}" and pool.autostart
        assert op.target_id == str(pool.pk)
    finally:
        conn = connection.get(TEST_URI)
        for info in pool_virt.list_pools(conn):
            if info.name == name:
                pool_virt.act(conn, info.uuid, "stop")
                pool_virt.act(conn, info.uuid, "undefine")
    assert name not in _defined_pool_names()


@pytest.mark.django_db(transaction=True)
def test_a_pool_libvirt_refuses_ends_failed_with_its_message_and_nothing_defined(stack, demo_host, operator):
    name = unique("kvmweb-test")
    xml = f"<pool type='netfs'><name>{name}</name><source><dir path='/srv/x'/><format type='nfs'/></source><target><path>/mnt/{name}</path></target></pool>"
    client = Client()
    client.login(username=operator.username, password=PASSWORD)
    assert client.post(NEW_XML, {"host": demo_host.pk, "xml": xml}).status_code == 302
    op = Operation.objects.get(kind="pool.create")
    wait_for(lambda: Operation.objects.get(pk=op.pk).finished, timeout=20, message="pool.create finished")
    op.refresh_from_db()
    assert op.status == "failed"
    assert "missing storage pool source host name" in op.error
    assert AuditEvent.objects.filter(operation_id=op.pk, outcome="failed", error=op.error).exists()
    assert name not in _defined_pool_names()
    assert not StoragePool.objects.filter(name=name).exists()
