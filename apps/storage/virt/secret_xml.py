"""Secret XML, built with lxml (never string formatting), for libvirt's secretDefineXML.

The dashboard defines every secret private (libvirt never hands its value back to any client)
and persistent (ephemeral="no", so it survives a libvirtd restart and pools that need it at
boot still start). Each usage type names what it is for in a different child element.
"""

from dataclasses import dataclass

from lxml import etree

# usage type -> the child of <usage> that holds its usage id (see libvirt's formatsecret docs)
USAGE_ELEMENTS = {
    "ceph": "name",  # the Ceph client, e.g. "client.libvirt secret"
    "iscsi": "target",  # the iSCSI target's CHAP usage name
    "volume": "volume",  # the LUKS-encrypted volume's path
    "tls": "name",  # the TLS credential's name
}


@dataclass
class SecretSpec:
    usage_type: str
    usage_id: str
    description: str = ""
    uuid: str | None = None
    private: bool = True
    ephemeral: bool = False

    def to_element(self):
        if self.usage_type not in USAGE_ELEMENTS:
            raise ValueError(f"unknown secret usage type {self.usage_type!r}")
        root = etree.Element(
            "secret", ephemeral="yes" if self.ephemeral else "no", private="yes" if self.private else "no"
        )
        if self.uuid:
            etree.SubElement(root, "uuid").text = self.uuid
        if self.description:
            etree.SubElement(root, "description").text = self.description
        usage = etree.SubElement(root, "usage", type=self.usage_type)
        etree.SubElement(usage, USAGE_ELEMENTS[self.usage_type]).text = self.usage_id
        return root

    def to_xml(self):
        return etree.tostring(self.to_element(), pretty_print=True, encoding="unicode")


def parse_usage(root):
    """(usage type, usage id) of a secret's XML element, or (type, "") for usages we do not model."""
    usage = root.find("usage")
    if usage is None:
        return "none", ""
    kind = usage.get("type", "none")
    child = USAGE_ELEMENTS.get(kind)
    return kind, (usage.findtext(child) or "") if child else ""
