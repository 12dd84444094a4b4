"""XML edits on the worker: libvirt defines the text with its schema validation
(services/xmledit.py queues it; the policy runs again here before anything is defined).

The submitted text (graphics passwords and all) waits in the Operation row only while the work
is to do: `forget_xml` takes it out, or its passwords, however the operation ends.
"""

from apps.compute.models import VirtualMachine
from apps.compute.runs.disks import refuse_new_disks_used_elsewhere
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.services.xmledit import XmlInputError, check_policy, check_quota
from apps.compute.virt import domains, xmledit
from apps.compute.virt.xml import Domain
from apps.core import realtime
from apps.core.errors import OperationError
from apps.core.xml import XMLError
from apps.core.xml import parse as parse_xml
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.runners import runner


def _policy(op, vm):
    """The XML policy again, against the definition as it is now: it, or the user's rights on
    the pools the XML names, may have changed since the request."""
    with connection.connected(vm.host.uri) as conn:
        before = xmledit.read(conn, str(vm.uuid))
        try:
            root = xmledit.parse(op.params.get("xml", ""), uuid=vm.uuid, name=vm.name)
            if op.actor is not None:
                check_policy(op.actor, vm, root, before)
            check_quota(vm, root, actor=op.actor)
        except XmlInputError as exc:  # e.g. the VM was renamed since the form was sent
            raise OperationError(str(exc)) from None
        refuse_new_disks_used_elsewhere(conn, vm, root, xmledit.parse_saved(before))


def forget_xml(op, *, passwords="***"):
    """Take the submitted text's display passwords out of the Operation row (replaced by
    `passwords`; None leaves them out) once no runner will read it: after the run, whatever its
    end, and when the guard refuses (a runner's `cleanup=`). The row is read, not `op.params`: a
    runner may have taken the text out of its copy already."""
    params = Operation.objects.filter(pk=op.pk).values_list("params", flat=True).first() or {}
    if "xml" not in params or not _may_hold_passwords(params["xml"]):
        return  # nothing secret in it: its author's text stays as they wrote it
    kept = xmledit.mask(params["xml"], replacement=passwords)
    Operation.objects.filter(pk=op.pk).update(params={**params, "xml": kept})
    if "xml" in (op.params or {}):
        op.params = {**op.params, "xml": kept}


def _may_hold_passwords(text):
    try:
        root = parse_xml(text)
    except XMLError:
        return True  # unreadable: xmledit.mask keeps none of it
    return root.tag != Domain.TAG or any(g.passwd is not None for g in Domain.wrap(root).graphics)


def _forget_edit(op):
    """A refused edit's text stays for its author's form, without passwords, as the XML tab
    shows a definition: sent back as it is, it keeps the password the VM has."""
    forget_xml(op, passwords=None)


@runner(
    "vm.xml_edit",
    permission="vm.edit",
    target=VirtualMachine,
    related=["host"],
    policy=_policy,
    private=["xml"],
    cleanup=_forget_edit,
)
def xml_edit(op, vm):
    try:
        return _xml_edit(op, vm)
    finally:
        _forget_edit(op)


def _xml_edit(op, vm):
    xml = op.params["xml"]
    # The outcome record is written from op.params as left here (operation_run saves only the
    # status fields of the row), so the row keeps the text for the form and the audit gets none.
    op.params = {k: v for k, v in op.params.items() if k != "xml"}
    uuid = str(vm.uuid)
    with connection.connected(vm.host.uri) as conn:
        before = xmledit.read(conn, uuid)
        try:
            root = xmledit.parse(xml, uuid=vm.uuid, name=vm.name)
        except XmlInputError as exc:  # the VM was renamed since the form was sent
            raise OperationError(str(exc)) from None
        op.params["diff"] = xmledit.diff(before, xml)
        xmledit.define(conn, uuid, root)  # VirtError with libvirt's words: nothing was changed
        after = xmledit.read(conn, uuid)
        op.params["diff"] = xmledit.diff(before, after)
        running = xmledit.is_active(conn, uuid)
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
    # Defined: the row no longer needs the text either.
    Operation.objects.filter(pk=op.pk).update(params=op.params)
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="xml")
    if not op.params["diff"]:
        return f"{vm.name}: libvirt accepted the XML; the saved definition is unchanged"
    lines = sum(1 for line in op.params["diff"].splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---"))
    note = "; the running VM uses it from its next start" if running else ""
    return f"{vm.name}: new definition saved ({lines} lines changed){note}"

