"""libvirt secret adapters: `secret-list`, `secret-define`, `secret-set-value`, `secret-undefine`.

Values only ever go in (set_value). Nothing here returns, logs or keeps a value: listing reports
whether one is set, which libvirt can only tell for non-private secrets (see `_value_state`).
"""

from dataclasses import dataclass

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .secret_xml import USAGE_ELEMENTS, Secret, parse_usage


@dataclass(frozen=True)
class SecretInfo:
    uuid: str
    usage_type: str
    usage_id: str
    description: str
    private: bool
    value_set: bool | None  # None: libvirt will not say (a private secret)


def _value_state(secret, private):
    """Whether a value is set. A private secret refuses every read, so its state is unknown
    (the dashboard tracks the ones it set itself). For a non-private one the only test libvirt
    offers is reading the value: the bytes are dropped at once, never returned or logged."""
    if private:
        return None
    try:
        secret.value(0)
    except libvirt.libvirtError as exc:
        return False if exc.get_error_code() == libvirt.VIR_ERR_NO_SECRET else None
    return True


def _info(secret) -> SecretInfo | None:
    doc = Secret.parse(secret.XMLDesc(0))
    usage_type, usage_id = parse_usage(doc.el)
    if usage_type not in USAGE_ELEMENTS:
        return None  # vtpm and usage-less secrets are not managed here
    private = doc.private is True
    return SecretInfo(
        uuid=secret.UUIDString(),
        usage_type=usage_type,
        usage_id=usage_id,
        description=doc.description,
        private=private,
        value_set=_value_state(secret, private),
    )


def list_secrets(conn) -> list[SecretInfo] | None:
    """Every secret of a usage we manage; None when the host has no secret driver at all
    (libvirt's test driver), which is not an error worth dropping the connection for."""
    try:
        secrets = conn.listAllSecrets(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise from_libvirt(exc) from None
    infos = []
    for secret in secrets:
        try:
            info = _info(secret)
        except libvirt.libvirtError:
            continue  # undefined while we looked; the next pass settles it
        if info is not None:
            infos.append(info)
    return infos


def _lookup(conn, uuid):
    try:
        return conn.secretLookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def secret_info(conn, uuid) -> SecretInfo | None:
    try:
        return _info(conn.secretLookupByUUIDString(uuid))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SECRET:
            return None
        raise from_libvirt(exc) from None


def define(conn, xml) -> str:
    """Define a secret; returns its UUID. libvirt refuses a second secret for the same usage."""
    try:
        return conn.secretDefineXML(xml, 0).UUIDString()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def set_value(conn, uuid, value: bytes):
    if not value:
        raise VirtError("A secret's value cannot be empty.")
    try:
        _lookup(conn, uuid).setValue(value, 0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine(conn, uuid):
    try:
        _lookup(conn, uuid).undefine()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine_quietly(conn, uuid):
    """Remove a secret left by a failed define-and-set, so nothing stays half-made."""
    try:
        conn.secretLookupByUUIDString(uuid).undefine()
    except libvirt.libvirtError:
        pass
