"""Editing a domain's XML: read it (saved and live), check an edit, define it, and the diff.

Secrets: libvirt leaves graphics passwords out of the XML unless asked (VIR_DOMAIN_XML_SECURE). We
show the XML without them and, when an edit gives a <graphics> no passwd, keep the one it had, so an
edit never silently drops a VNC password. Diffs mask every passwd, so none reaches the audit log.
"""

import difflib
import re

import libvirt
from lxml import etree

from apps.core.errors import from_libvirt

from . import domains
from .domains import lookup

MAX_XML_BYTES = 256 * 1024  # a domain with hundreds of devices stays far below this
DIFF_MAX_LINES = 200
DIFF_MAX_CHARS = 16 * 1024
PASSWD_ATTR = re.compile(r"""(passwd\s*=\s*)(["']).*?\2""")


class XmlInputError(ValueError):
    """The submitted text is not a domain document we may define; the message is for the form."""


def _parser():
    # No entities, no DTDs, no network: the text comes from a browser.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(text, *, uuid, name):
    """Check an edit before anything is queued: well-formed, a <domain>, same UUID and name."""
    if not text or not text.strip():
        raise XmlInputError("The XML is empty.")
    if len(text.encode()) > MAX_XML_BYTES:
        raise XmlInputError(f"The XML is larger than {MAX_XML_BYTES // 1024} KiB.")
    try:
        root = etree.fromstring(text.strip().encode(), _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"This is not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlInputError("A DOCTYPE is not allowed in a domain's XML.")
    if root.tag != "domain":
        raise XmlInputError(f"The root element must be <domain>, not {root.tag!r}.")
    given_uuid = (root.findtext("uuid") or "").strip().lower()
    if given_uuid != str(uuid).lower():
        raise XmlInputError(
            f"The <uuid> must stay {uuid}: a different or missing UUID would define a second VM, not edit this one."
        )
    if (root.findtext("name") or "").strip() != name:
        # libvirt refuses a define that renames (the name is tied to the UUID); renaming is
        # virDomainRename on a shut-off VM, a separate action, not an XML edit.
        raise XmlInputError(f"The <name> must stay {name}: renaming is not done by editing the XML.")
    return root


def parse_saved(text):
    """libvirt's own XML of a definition, parsed (to compare an edit with)."""
    return etree.fromstring(text.encode(), _parser())


def read(conn, uuid, *, live=False):
    """The saved definition (or the running domain's live XML), without secrets."""
    dom = lookup(conn, uuid)
    try:
        return dom.XMLDesc(0 if live else libvirt.VIR_DOMAIN_XML_INACTIVE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def is_active(conn, uuid):
    try:
        return bool(lookup(conn, uuid).isActive())
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def _keep_passwords(root, secure_xml):
    """Give each <graphics> without passwd the one the same type had (the edit could not see it)."""
    old = {}
    for el in etree.fromstring(secure_xml).findall("devices/graphics"):
        if el.get("passwd") is not None:
            old.setdefault(el.get("type"), el.get("passwd"))
    for el in root.findall("devices/graphics"):
        if el.get("passwd") is None and el.get("type") in old:
            el.set("passwd", old[el.get("type")])


def define(conn, uuid, root):
    """defineXML with libvirt's schema validation; the same UUID, so it replaces the saved definition.
    A running domain keeps running as it is; the new definition applies from its next start."""
    dom = lookup(conn, uuid)
    try:
        _keep_passwords(root, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    domains.define(conn, etree.tostring(root, encoding="unicode"), validate=True)


def redefine(conn, uuid, xml_text):
    """Define a changed copy of the saved definition (boot order, …), keeping its passwords."""
    define(conn, uuid, etree.fromstring(xml_text.encode(), _parser()))


def secure_inactive(conn, uuid):
    """The saved definition with its passwords: only for changing it on the worker, never shown."""
    try:
        return lookup(conn, uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def mask(text):
    return PASSWD_ATTR.sub(r"\1\2***\2", text)


def diff(before, after, *, label="domain.xml"):
    """A unified diff for the audit record, passwords masked, cut to a bounded size."""
    lines = list(
        difflib.unified_diff(
            mask(before).splitlines(), mask(after).splitlines(), f"{label} (before)", f"{label} (after)", lineterm=""
        )
    )
    kept, size = [], 0
    for line in lines[:DIFF_MAX_LINES]:
        if size + len(line) + 1 > DIFF_MAX_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    if len(kept) < len(lines):
        kept.append(f"… {len(lines) - len(kept)} more lines not kept")
    return "\n".join(kept)
