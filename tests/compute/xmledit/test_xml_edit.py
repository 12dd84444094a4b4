"""Editing the domain XML on the test driver: checks before queueing, libvirt's refusal on the form,
the diff in the audit log (bounded, passwords masked), and the tab's waiting and refused states."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from lxml import etree

from apps.audit.models import AuditEvent
from apps.compute.services import xmledit as services
from apps.compute.virt import xmledit
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from tests.conftest import PASSWORD
from tests.helpers import make_vm


@pytest.fixture
def queue_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def saved(vm, secure=False):
    conn = connection.get(vm.host.uri)
    return xmledit.secure_inactive(conn, str(vm.uuid)) if secure else xmledit.read(conn, str(vm.uuid))


def edited(vm, fn):
    root = etree.fromstring(saved(vm))
    fn(root)
    return etree.tostring(root, encoding="unicode")


def describe(text):
    def fn(root):
        el = root.find("description")
        if el is None:
            el = etree.Element("description")
            root.insert(2, el)
        el.text = text

    return fn


def bogus_bus(root):
    root.find("devices/disk/target").set("bus", "bogus")


def _run(op):
    return operation_run(op.pk)


def _audit(op):
    return {e.outcome: e.params for e in AuditEvent.objects.filter(operation_id=op.pk)}


def test_an_accepted_edit_is_defined_and_the_audit_keeps_the_diff(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    op = services.vm_xml_edit(actor=operator, vm=vm, xml=edited(vm, describe("edited by hand")))
    assert "xml" in Operation.objects.get(pk=op.pk).params  # the worker's input
    op = _run(op)
    assert op.status == "succeeded", op.error
    assert "new definition saved (1 lines changed)" in op.message
    assert etree.fromstring(saved(vm)).findtext("description") == "edited by hand"
    audit = _audit(op)
    assert "+  <description>edited by hand</description>" in audit["requested"]["diff"]
    assert "+  <description>edited by hand</description>" in audit["succeeded"]["diff"]
    assert "xml" not in audit["requested"] and "xml" not in audit["succeeded"]
    assert "xml" not in Operation.objects.get(pk=op.pk).params  # defined: the text is not kept


def test_libvirts_refusal_fails_the_operation_and_changes_nothing(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    before = saved(vm)
    text = edited(vm, bogus_bus)
    op = _run(services.vm_xml_edit(actor=operator, vm=vm, xml=text))
    assert op.status == "failed"
    assert "failed to validate against schema" in op.error  # libvirt's own words
    assert saved(vm) == before
    assert Operation.objects.get(pk=op.pk).params["xml"] == text  # kept for the form
    audit = _audit(op)
    assert 'bus="bogus"' in audit["failed"]["diff"] and "xml" not in audit["failed"]
    assert AuditEvent.objects.get(operation_id=op.pk, outcome="failed").error == op.error


UUID_OTHER = "0b7e4f3c-1111-4222-8333-444455556666"


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda vm: "", "empty"),
        (lambda vm: "this is not xml", "not well-formed XML"),
        (lambda vm: saved(vm).replace("</domain>", ""), "not well-formed XML"),
        (
            lambda vm: f"<network><name>{vm.name}</name><uuid>{vm.uuid}</uuid></network>",
            "root element must be <domain>",
        ),
        (lambda vm: saved(vm).replace(str(vm.uuid), UUID_OTHER), "must stay"),
        (lambda vm: edited(vm, lambda r: r.remove(r.find("uuid"))), "a different or missing UUID"),
        (lambda vm: saved(vm).replace(f"<name>{vm.name}</name>", "<name>renamed</name>"), "renaming is not done"),
        (
            lambda vm: '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + saved(vm),
            "DOCTYPE is not allowed",
        ),
        (lambda vm: saved(vm).replace("</domain>", "<!--" + "x" * 300_000 + "--></domain>"), "larger than 256 KiB"),
        (lambda vm: saved(vm), "Nothing changed"),
    ],
)
def test_bad_xml_is_refused_before_anything_is_queued(demo_host, operator, make, words):
    vm = make_vm(demo_host)
    with pytest.raises(services.XmlInputError) as info:
        services.vm_xml_edit(actor=operator, vm=vm, xml=make(vm))
    assert words in str(info.value)
    assert not Operation.objects.exists()


def test_the_vnc_password_is_kept_and_never_reaches_the_audit_log(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    op = _run(
        services.vm_xml_edit(
            actor=operator,
            vm=vm,
            xml=edited(vm, lambda r: etree.SubElement(r.find("devices"), "graphics", type="vnc", passwd="hunter2")),
        )
    )
    assert op.status == "succeeded", op.error
    assert 'passwd="hunter2"' not in saved(vm)  # never shown
    # An edit of the XML the page shows (without the password) keeps it.
    op = _run(services.vm_xml_edit(actor=operator, vm=vm, xml=edited(vm, describe("again"))))
    assert op.status == "succeeded", op.error
    assert etree.fromstring(saved(vm, secure=True)).find("devices/graphics").get("passwd") == "hunter2"
    everything = " ".join(str(e.params) for e in AuditEvent.objects.all())
    assert "hunter2" not in everything and 'passwd="***"' in everything


def test_the_diff_is_bounded(demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    text = edited(vm, describe("\n".join(f"line {i}" for i in range(1000))))
    op = services.vm_xml_edit(actor=operator, vm=vm, xml=text)
    diff = _audit(op)["requested"]["diff"]
    assert len(diff) <= xmledit.DIFF_MAX_CHARS + 100 and diff.endswith("more lines not kept")


def test_viewer_may_not_edit(demo_host, viewer):
    vm = make_vm(demo_host)
    with pytest.raises(PermissionDenied):
        services.vm_xml_edit(actor=viewer, vm=vm, xml=edited(vm, describe("x")))


# -- the tab -------------------------------------------------------------------------------------


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_tab_shows_the_xml_escaped_and_read_only_to_viewers(client, demo_host, operator, viewer, queue_only):
    vm = make_vm(demo_host, start=True)
    _run(services.vm_xml_edit(actor=operator, vm=vm, xml=edited(vm, describe("<b>&amp;</b>"))))
    url = reverse("compute:vm_xml", args=[vm.pk])
    html = _login(client, operator).get(url).content.decode()
    assert 'id="xml-text"' in html and "&lt;description&gt;&amp;lt;b&amp;gt;" in html
    assert 'id="xml-live"' in html  # running: the live XML too
    client.logout()
    html = _login(client, viewer).get(url).content.decode()
    assert 'id="xml-text"' not in html and 'id="xml-saved"' in html


def test_form_errors_keep_the_text_and_a_refusal_comes_back_beside_it(client, demo_host, operator, admin, queue_only):
    vm = make_vm(demo_host)
    c = _login(client, operator)
    save = reverse("compute:vm_xml_save", args=[vm.pk])
    response = c.post(save, {"xml": "<domain>not closed"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "not well-formed XML" in html and "&lt;domain&gt;not closed" in html

    text = edited(vm, bogus_bus)
    html = c.post(save, {"xml": text}, HTTP_HX_REQUEST="true").content.decode()
    op = Operation.objects.get(kind="vm.xml_edit")
    assert "xml-waiting" in html and f"?op={op.pk}" in html and f'data-op-row="op-{op.pk}"' in html
    _run(op)
    tab = reverse("compute:vm_xml", args=[vm.pk])
    html = c.get(tab, {"op": op.pk}).content.decode()
    assert "libvirt refused the definition; nothing was changed." in html
    assert "failed to validate against schema" in html and "bus=&quot;bogus&quot;" in html  # their text
    assert "bus=&#x27;bogus&#x27;" not in saved(vm) and "bogus" not in saved(vm)
    # Only its author gets the text back; the plain tab shows the saved definition.
    assert "bogus" not in c.get(tab).content.decode()
    client.logout()
    assert "bogus" not in _login(client, admin).get(tab, {"op": op.pk}).content.decode()


def test_an_accepted_edit_shows_its_message_on_the_tab(client, demo_host, operator, queue_only):
    vm = make_vm(demo_host)
    c = _login(client, operator)
    c.post(reverse("compute:vm_xml_save", args=[vm.pk]), {"xml": edited(vm, describe("ok"))}, HTTP_HX_REQUEST="true")
    op = _run(Operation.objects.get(kind="vm.xml_edit"))
    html = c.get(reverse("compute:vm_xml", args=[vm.pk]), {"op": op.pk}).content.decode()
    assert "xml-saved" in html and "new definition saved" in html and "&lt;description&gt;ok" in html
