"""Who holds a network: libvirt's <networkport> (the QEMU driver keeps one per plugged NIC) and,
where a driver keeps none, the <interface> elements of a running domain's XML."""

from apps.core.xml import Children, Prop, XMLObject


class NetworkPort(XMLObject):
    TAG = "networkport"
    owner_name = Prop("owner/name")
    owner_uuid = Prop("owner/uuid")
    mac = Prop("mac/@address")


class DomainNic(XMLObject):
    TAG = "interface"
    type = Prop("@type")
    network = Prop("source/@network")
    mac = Prop("mac/@address")


class DomainNics(XMLObject):
    """Only the NICs of a <domain>: the rest of it is left unread."""

    TAG = "domain"
    name = Prop("name")
    uuid = Prop("uuid")
    nics = Children(DomainNic, "devices/interface")
