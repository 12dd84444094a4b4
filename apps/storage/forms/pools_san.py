"""Pool forms for SAN and network block storage: iSCSI, iSCSI direct, SCSI HBAs, Ceph RBD, Gluster.

The iSCSI and Ceph forms take credentials as a user name plus a libvirt secret picked from the
host's secrets; the secret's value never passes through here, only its UUID goes into the XML.
"""

import ipaddress

from django import forms

from apps.storage.forms.pool_base import PoolForm, SecretChoiceField
from apps.storage.forms.pool_fields import (
    HostNameField,
    IQNField,
    NameField,
    PathField,
    validate_host,
    validate_scsi_host,
    validate_user,
    validate_wwn,
)
from apps.storage.models import Secret
from apps.storage.virt.pool_xml import Adapter, Auth, Source, SourceDevice, SourceHost, Target

BY_PATH = [("/dev/disk/by-path", "/dev/disk/by-path"), ("/dev/disk/by-id", "/dev/disk/by-id")]


def port_field(default, help_text):
    return forms.IntegerField(
        required=False, min_value=1, max_value=65535, help_text=f"{help_text} Blank means {default}."
    )


def secret_field(usage, help_text):
    return SecretChoiceField(
        queryset=Secret.objects.filter(present=True, usage_type=usage),
        required=False,
        help_text=help_text,
    )


class _ChapMixin(forms.Form):
    chap_username = forms.CharField(
        required=False,
        max_length=64,
        validators=[validate_user],
        label="CHAP user name",
        help_text="Only if the target asks for CHAP authentication.",
    )
    chap_secret = secret_field("iscsi", "The libvirt secret (usage iscsi) holding the CHAP password.")
    secret_usage = "iscsi"

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("chap_username")) != bool(cleaned.get("chap_secret")):
            self.add_error("chap_secret", "CHAP needs both a user name and a secret (or neither).")
        return cleaned

    def auth(self, data):
        if not data.get("chap_username"):
            return None
        return Auth(type="chap", username=data["chap_username"], secret_uuid=str(data["chap_secret"].uuid))


class IscsiPoolForm(_ChapMixin, PoolForm):
    pool_type = "iscsi"
    description = "The LUNs of an iSCSI target, logged in through the host's iscsiadm."

    portal = HostNameField(label="Portal", help_text="iSCSI portal host name or address, e.g. san.example.com.")
    port = port_field(3260, "Portal TCP port.")
    target_iqn = IQNField(label="Target IQN", help_text="The target's IQN, e.g. iqn.2024-01.com.example:storage.lun1.")
    initiator_iqn = IQNField(
        required=False,
        label="Initiator IQN",
        help_text="This host's initiator name, if the target allows only some; blank uses /etc/iscsi/initiatorname.iscsi.",
    )
    target_path = forms.ChoiceField(choices=BY_PATH, initial="/dev/disk/by-path", label="LUN paths")

    def source(self, data):
        return Source(
            hosts=[SourceHost(data["portal"], data.get("port"))],
            devices=[SourceDevice(data["target_iqn"])],
            initiator_iqn=data.get("initiator_iqn") or None,
            auth=self.auth(data),
        )

    def target(self, data):
        return Target(path=data["target_path"])


class IscsiDirectPoolForm(_ChapMixin, PoolForm):
    pool_type = "iscsi-direct"
    description = "An iSCSI target reached by libvirt itself (libiscsi), without logging the host in."

    portal = HostNameField(label="Portal", help_text="iSCSI portal host name or address, e.g. san.example.com.")
    port = port_field(3260, "Portal TCP port.")
    target_iqn = IQNField(label="Target IQN", help_text="The target's IQN, e.g. iqn.2024-01.com.example:storage.lun1.")
    initiator_iqn = IQNField(
        label="Initiator IQN", help_text="The initiator name libvirt presents, e.g. iqn.2024-01.com.example:hv1."
    )

    def source(self, data):
        return Source(
            hosts=[SourceHost(data["portal"], data.get("port"))],
            devices=[SourceDevice(data["target_iqn"])],
            initiator_iqn=data["initiator_iqn"],
            auth=self.auth(data),
        )


class ScsiPoolForm(PoolForm):
    pool_type = "scsi"
    description = "The LUNs behind a SCSI host bus adapter, local or a Fibre Channel vHBA."

    adapter_type = forms.ChoiceField(
        choices=[("scsi_host", "SCSI host adapter"), ("fc_host", "Fibre Channel vHBA")], initial="scsi_host"
    )
    adapter_name = forms.CharField(
        required=False,
        max_length=32,
        validators=[validate_scsi_host],
        label="Adapter",
        help_text="SCSI host adapter: its kernel name, e.g. scsi_host2 (virsh nodedev-list --cap scsi_host).",
    )
    parent = forms.CharField(
        required=False,
        max_length=32,
        validators=[validate_scsi_host],
        label="Parent HBA",
        help_text="Fibre Channel: the HBA to create the vHBA on, e.g. scsi_host5; blank lets libvirt choose one.",
    )
    wwnn = forms.CharField(
        required=False,
        max_length=18,
        validators=[validate_wwn],
        label="WWNN",
        help_text="Fibre Channel: the vHBA's world wide node name, 16 hex digits.",
    )
    wwpn = forms.CharField(
        required=False,
        max_length=18,
        validators=[validate_wwn],
        label="WWPN",
        help_text="Fibre Channel: the vHBA's world wide port name, 16 hex digits.",
    )
    target_path = forms.ChoiceField(choices=BY_PATH, initial="/dev/disk/by-path", label="LUN paths")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("adapter_type") == "fc_host":
            for name in ("wwnn", "wwpn"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, "A Fibre Channel vHBA needs both WWNN and WWPN.")
        elif cleaned.get("adapter_type") == "scsi_host" and not cleaned.get("adapter_name"):
            if "adapter_name" not in self.errors:
                self.add_error("adapter_name", "Name the SCSI host adapter, e.g. scsi_host2.")
        return cleaned

    def source(self, data):
        if data["adapter_type"] == "fc_host":
            adapter = Adapter(type="fc_host", parent=data.get("parent") or None, wwnn=data["wwnn"], wwpn=data["wwpn"])
        else:
            adapter = Adapter(type="scsi_host", name=data["adapter_name"])
        return Source(adapter=adapter)

    def target(self, data):
        return Target(path=data["target_path"])


def parse_monitor(line):
    """'mon1', 'mon1:6789', '10.0.0.1:6789', '[2001:db8::1]:6789' or a bare IPv6 address."""
    host, port = line, None
    if line.startswith("["):
        host, _, rest = line[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise forms.ValidationError("Write an IPv6 monitor as [address]:port, e.g. [2001:db8::1]:6789.")
            port = rest[1:]
    elif line.count(":") == 1:
        host, port = line.split(":")
    elif ":" in line:
        ipaddress.ip_address(line)  # a bare IPv6 address; anything else with colons fails below
    validate_host(host)
    if port is not None:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise forms.ValidationError("A port is a number from 1 to 65535 (got %(port)s).", params={"port": port})
        port = int(port)
    return SourceHost(host, port)


class MonitorListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value):
        value = super().clean(value)
        monitors = []
        for line in (value or "").splitlines():
            if line.strip():
                try:
                    monitors.append(parse_monitor(line.strip()))
                except ValueError:
                    raise forms.ValidationError(
                        "Not a host, host:port or [IPv6]:port: %(line)s", params={"line": line}
                    ) from None
        if not monitors:
            raise forms.ValidationError("Name at least one Ceph monitor.")
        return monitors


class RbdPoolForm(PoolForm):
    pool_type = "rbd"
    description = "A Ceph RADOS block device pool; each volume is an RBD image."
    secret_usage = "ceph"

    monitors = MonitorListField(
        help_text="Ceph monitors, one per line: host or host:port, e.g. mon1.example.com:6789 (port defaults to 6789)."
    )
    ceph_pool = NameField(label="Ceph pool", help_text="The Ceph pool holding the images, e.g. libvirt-pool.")
    ceph_user = forms.CharField(
        required=False,
        max_length=64,
        validators=[validate_user],
        label="Ceph user",
        help_text="The cephx user without 'client.', e.g. libvirt. Blank if the cluster has cephx off.",
    )
    ceph_secret = secret_field("ceph", "The libvirt secret (usage ceph) holding that user's key.")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("ceph_user")) != bool(cleaned.get("ceph_secret")):
            self.add_error("ceph_secret", "cephx needs both a user and a secret (or neither).")
        return cleaned

    def source(self, data):
        auth = None
        if data.get("ceph_user"):
            auth = Auth(type="ceph", username=data["ceph_user"], secret_uuid=str(data["ceph_secret"].uuid))
        return Source(hosts=data["monitors"], name=data["ceph_pool"], auth=auth)


class GlusterPoolForm(PoolForm):
    pool_type = "gluster"
    description = "A Gluster volume reached by QEMU through libgfapi, without a mount."

    server = HostNameField(help_text="A Gluster server host name or address, e.g. gluster1.example.com.")
    volume = NameField(help_text="The Gluster volume name, e.g. gv0.")
    subdir = PathField(
        required=False,
        label="Directory",
        help_text="A directory inside the volume, e.g. /vms; blank uses the whole volume.",
    )

    def source(self, data):
        return Source(hosts=[SourceHost(data["server"])], dir=data.get("subdir") or None, name=data["volume"])
