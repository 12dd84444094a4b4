"""Secret XML as a typed class over lxml (apps/core/xml.py), for libvirt's secretDefineXML and
for reading what secretGetXMLDesc gives back; never string formatting.

The dashboard defines every secret private (libvirt never hands its value back to any client)
and persistent (ephemeral="no", so it survives a libvirtd restart and pools that need it at
boot still start). Each usage type names what it is for in a different child element.
"""

from apps.core.xml import Flag, Prop, XMLObject

# usage type -> the child of <usage> that holds its usage id (see libvirt's formatsecret docs)
USAGE_ELEMENTS = {
    "ceph": "name",  # the Ceph client, e.g. "client.libvirt secret"
    "iscsi": "target",  # the iSCSI target's CHAP usage name
    "volume": "volume",  # the LUKS-encrypted volume's path
    "tls": "name",  # the TLS credential's name
}


class Secret(XMLObject):
    """A secret's definition (never its value). `Secret(usage_type, usage_id, description="",
    uuid=None, private=True, ephemeral=False)` is one to define; `Secret.parse(xml)` reads one."""

    TAG = "secret"
    ORDER = {"": ("uuid", "description", "usage")}
    ephemeral = Prop("@ephemeral", "yesno")
    private = Prop("@private", "yesno")
    uuid = Prop("uuid")
    description_text = Prop("description")
    has_usage = Flag("usage")
    usage_type = Prop("usage/@type")

    def __init__(self, usage_type, usage_id, description="", uuid=None, private=True, ephemeral=False):
        if usage_type not in USAGE_ELEMENTS:
            raise ValueError(f"unknown secret usage type {usage_type!r}")
        super().__init__(
            ephemeral=bool(ephemeral), private=bool(private), uuid=uuid or None, description_text=description or None
        )
        self.usage_type = usage_type
        self.usage_id = usage_id

    @property
    def description(self):
        return self.description_text or ""

    @description.setter
    def description(self, value):
        self.description_text = value or None

    @property
    def usage_id(self):
        """What the secret is for (the Ceph client, iSCSI target, volume path or TLS name); ""
        for usages we do not model."""
        child = USAGE_ELEMENTS.get(self.usage_type)
        return (Prop(f"usage/{child}").__get__(self) or "") if child else ""

    @usage_id.setter
    def usage_id(self, value):
        child = USAGE_ELEMENTS[self.usage_type]
        Prop(f"usage/{child}").__set__(self, value)


# The name the secret runs and the secret service have always used for a secret to define.
SecretSpec = Secret


def parse_usage(root):
    """(usage type, usage id) of a secret's XML element, or (type, "") for usages we do not model."""
    secret = Secret.wrap(root)
    if not secret.has_usage:
        return "none", ""
    return secret.usage_type or "none", secret.usage_id
