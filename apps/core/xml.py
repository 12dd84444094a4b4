"""The one helper every libvirt XML class builds with (domains, disks, pools, volumes, secrets).

Values become attribute and text nodes through lxml, which escapes them; nothing is ever
formatted into an XML string. Attributes whose value is None are left out.
"""

from lxml import etree


def sub(parent, tag, text=None, **attrs):
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el
