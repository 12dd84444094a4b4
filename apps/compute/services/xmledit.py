"""Editing a VM's domain XML (right: vm.edit).

The request checks what it can without libvirt (well-formed, a <domain>, same UUID and name) and
queues the define; the worker runs defineXML with libvirt's schema validation. A refusal ends the
operation failed with libvirt's words and changes nothing.

Where the text lives: the Operation row keeps the submitted XML (params["xml"]) so the XML tab can
put it back in the form beside libvirt's refusal (only for its author). The audit records never
get the XML, only a bounded unified diff with passwords masked: the "requested" record the diff
against the definition the user saw, the outcome record the diff of what really changed.
"""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute import xmlpolicy
from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, xmledit
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import OperationError, operation_queue

registry.register("vm.xml_edit", "edited the XML of VM")

XmlInputError = xmledit.XmlInputError


def read_xml(vm, *, live=False):
    with connection.connected(vm.host.uri) as conn:
        return xmledit.read(conn, str(vm.uuid), live=live)


def vm_xml_edit(*, actor, vm, xml, before=None):
    """Queue a define of the edited XML. `before`: the saved XML the page showed (read when None)."""
    from apps.compute.tasks.state import vm_xml_task

    authorize(actor, "vm.edit", vm)
    root = xmledit.parse(xml, uuid=vm.uuid, name=vm.name)  # XmlInputError: shown on the form
    before = read_xml(vm) if before is None else before
    _check_policy(actor, vm, root, before)
    change = xmledit.diff(before, xml)
    if not change:
        raise XmlInputError("Nothing changed.")
    with transaction.atomic():
        op = operation_queue(
            actor=actor,
            kind="vm.xml_edit",
            target=vm,
            params={"diff": change, "bytes": len(xml.encode())},
            task=vm_xml_task,
            queue=vm.host.queue,
        )
        # Added after the "requested" record was written, so only the row holds the text.
        op.params = {**op.params, "xml": xml}
        Operation.objects.filter(pk=op.pk).update(params=op.params)
    return op


def _check_policy(actor, vm, root, before):
    """What the user may not put in a definition (apps/compute/xmlpolicy.py), as a form error."""
    found = xmlpolicy.problems(root, user=actor, host=vm.host, before=xmledit.parse_saved(before))
    if found:
        raise XmlInputError(" ".join(found))


def vm_xml_execute(op):
    vm = VirtualMachine.objects.select_related("host").get(pk=int(op.target_id))
    if op.actor is not None:
        authorize(op.actor, "vm.edit", vm)
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
        if op.actor is not None:  # again: the definition may have changed since the request
            try:
                _check_policy(op.actor, vm, root, before)
            except XmlInputError as exc:
                raise OperationError(str(exc)) from None
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
