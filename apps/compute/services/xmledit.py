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
from apps.compute.quotas import QuotaExceeded, quota_check
from apps.compute.virt import xmledit
from apps.compute.virt.xml import Domain
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_queue

registry.register("vm.xml_edit", "edited the XML of VM")

XmlInputError = xmledit.XmlInputError


def read_xml(vm, *, live=False):
    with connection.connected(vm.host.uri) as conn:
        return xmledit.read(conn, str(vm.uuid), live=live)


def vm_xml_edit(*, actor, vm, xml, before=None):
    """Queue a define of the edited XML. `before`: the saved XML the page showed (read when None)."""
    authorize(actor, "vm.edit", vm)
    root = xmledit.parse(xml, uuid=vm.uuid, name=vm.name)  # XmlInputError: shown on the form
    before = read_xml(vm) if before is None else before
    check_policy(actor, vm, root, before)
    check_quota(vm, root, actor=actor)
    change = xmledit.diff(before, xml)
    if not change:
        raise XmlInputError("Nothing changed.")
    with transaction.atomic():
        op = operation_queue(
            actor=actor,
            kind="vm.xml_edit",
            target=vm,
            params={"diff": change, "bytes": len(xml.encode())},
        )
        # Added after the "requested" record was written, so only the row holds the text.
        op.params = {**op.params, "xml": xml}
        Operation.objects.filter(pk=op.pk).update(params=op.params)
    return op


def check_quota(vm, root, *, actor=None):
    """What the edit grows (<vcpu>, <memory>) counts against the VM's team quota, as the Settings
    tab's changes do: hand-written XML is no way around it. The refusal of what `actor` asked for
    is recorded as "denied"."""
    new = Domain.wrap(root)
    vcpus = max(new.vcpus or 0, new.vcpus_current or 0)
    grow_vcpus = max(0, vcpus - max(vm.vcpus, vm.max_vcpus))
    grow_memory = max(0, (new.memory_kib or 0) // 1024 - vm.max_memory_kib // 1024)
    if grow_vcpus or grow_memory:
        try:
            quota_check(
                vm.team, vcpus=grow_vcpus, memory_mib=grow_memory, actor=actor, target=vm, attempt="vm.xml_edit"
            )
        except QuotaExceeded as exc:
            raise XmlInputError(str(exc)) from None


def check_policy(actor, vm, root, before):
    """What the user may not put in a definition (apps/compute/xmlpolicy/), as a form error; each
    refusal is audited as "denied"."""
    found = xmlpolicy.refused(
        root, user=actor, host=vm.host, before=xmledit.parse_saved(before), target=vm, attempt="vm.xml_edit"
    )
    if found:
        raise XmlInputError(" ".join(found))


