"""Editing a domain's XML: read it (saved and live), check an edit, define it, and the diff.

Every document is read and written through the typed Domain (virt/xml/), so an edit keeps all
it does not name. Secrets: libvirt leaves display passwords out of the XML unless asked
(VIR_DOMAIN_XML_SECURE). We show the XML without them and, when an edit gives a <graphics> no
passwd, keep the one it had, so an edit never silently drops a VNC password. What reaches the
audit log (diffs, a definition kept for the operations panel) has every password masked, found
through the typed Graphics of each display, whatever its type.
"""

import difflib

import libvirt

from apps.core.errors import from_libvirt
from apps.core.xml import DoctypeError, XMLError, emit
from apps.core.xml import parse as parse_xml

from . import domains
from .domains import lookup
from .xml import Domain, Snapshot

MAX_XML_BYTES = 256 * 1024  # a domain with hundreds of devices stays far below this
DIFF_MAX_LINES = 200
DIFF_MAX_CHARS = 16 * 1024
# What mask() gives for text that is no XML at all: nothing of it is kept, since a password in
# it cannot be found.
NOT_KEPT = "<!-- not well-formed XML: not kept, as it may hold a password -->\n"


class XmlInputError(ValueError):
    """The submitted text is not a domain document we may define; the message is for the form."""


def parse(text, *, uuid, name):
    """Check an edit before anything is queued: well-formed, a <domain>, same UUID and name.
    Returns the root element (`Domain.wrap(root)` is its typed view; the XML policy reads it)."""
    if not text or not text.strip():
        raise XmlInputError("The XML is empty.")
    if len(text.encode()) > MAX_XML_BYTES:
        raise XmlInputError(f"The XML is larger than {MAX_XML_BYTES // 1024} KiB.")
    try:
        root = parse_xml(text.strip())  # no entities, no DTD, no network: the text comes from a browser
    except DoctypeError:
        raise XmlInputError("A DOCTYPE is not allowed in a domain's XML.") from None
    except XMLError as exc:
        raise XmlInputError(f"This is {exc}") from None
    if root.tag != Domain.TAG:
        raise XmlInputError(f"The root element must be <domain>, not {root.tag!r}.")
    doc = Domain.wrap(root)
    if (doc.uuid or "").strip().lower() != str(uuid).lower():
        raise XmlInputError(
            f"The <uuid> must stay {uuid}: a different or missing UUID would define a second VM, not edit this one."
        )
    if (doc.name or "").strip() != name:
        # libvirt refuses a define that renames (the name is tied to the UUID); renaming is
        # virDomainRename on a shut-off VM, a separate action, not an XML edit.
        raise XmlInputError(f"The <name> must stay {name}: renaming is not done by editing the XML.")
    return root


def parse_saved(text):
    """libvirt's own XML of a definition, parsed (to compare an edit with): the root element."""
    return parse_xml(text)


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


def keep_passwords(doc, secure):
    """Give each display of `doc` without a password the one the same type had in `secure`
    (the saved definition read with its secrets): the edit could not see it."""
    old = {}
    for graphics in secure.graphics:
        if graphics.passwd is not None:
            old.setdefault(graphics.type, graphics.passwd)
    for graphics in doc.graphics:
        if graphics.passwd is None and graphics.type in old:
            graphics.passwd = old[graphics.type]


def define(conn, uuid, root):
    """defineXML with libvirt's schema validation; the same UUID, so it replaces the saved definition.
    `root`: a Domain or its root element. A running domain keeps running as it is; the new
    definition applies from its next start."""
    doc = root if isinstance(root, Domain) else Domain.wrap(root)
    keep_passwords(doc, Domain.parse(secure_inactive(conn, uuid)))
    domains.define(conn, doc.to_xml(), validate=True)


def redefine(conn, uuid, xml_text):
    """Define a changed copy of the saved definition (boot order, …), keeping its passwords."""
    define(conn, uuid, Domain.parse(xml_text))


def secure_inactive(conn, uuid):
    """The saved definition with its passwords: only for changing it on the worker, never shown."""
    try:
        return lookup(conn, uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def _definitions(root):
    """The domain definitions a document holds: itself, or a snapshot's saved domain(s)."""
    if root.tag == Domain.TAG:
        return [Domain.wrap(root)]
    if root.tag == Snapshot.TAG:
        snap = Snapshot.wrap(root)
        return [d for d in (snap.domain, snap.inactive_domain) if d is not None]
    return []


def mask(text, *, replacement="***"):
    """The document with every display password replaced by `replacement` (None: left out, as
    libvirt leaves them out), re-emitted (indented as libvirt indents). Text that is not
    well-formed XML is not kept at all (NOT_KEPT)."""
    try:
        root = parse_xml(text)
    except XMLError:
        return NOT_KEPT
    for doc in _definitions(root):
        doc.mask_passwords(replacement)
    return emit(root)


def diff(before, after, *, label="domain.xml"):
    """A unified diff for the audit record, passwords masked, cut to a bounded size. Both sides
    are emitted the same way first, so only what changed shows, not quoting or indentation."""
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
