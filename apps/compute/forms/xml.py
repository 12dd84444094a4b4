"""The XML tab's form: the domain XML as typed (kept byte for byte; the service judges it)."""

from .common import PageForm, text


class XmlEditForm(PageForm):
    which = "xml"
    unreadable = "Cannot read the current definition"
    xml = text()
