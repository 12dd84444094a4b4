"""The create wizard's form and the define-from-XML form.

The choices come from what the user may use on the chosen host: ISO images of its ISO library,
pools where they may create volumes, volumes they may see, the host's libvirt networks, their own
teams. A posted pool or volume id outside those lists is still looked up and handed to the
service, whose checks say clearly why it is refused (and audit a refusal of a right), rather than
a bare "invalid choice"; one of a pool the user may not even see is refused without its name.
"""

import contextlib
import uuid as uuidlib

from django import forms
from django.core.exceptions import PermissionDenied
from lxml import etree

from apps.accounts.forms import Styled
from apps.accounts.models import Team
from apps.authz.rights import authorize, may, rights
from apps.compute import osinfo, xmlpolicy
from apps.compute.services.create import DISK_POOL_TYPES, CreateError, NewVM, create_plan
from apps.hosts.models import Host
from apps.network.access import may_use as may_use_network
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.selectors import iso_images, pools_visible

SOURCE_CHOICES = [
    ("iso", "ISO image (CD-ROM)"),
    ("tree", "Install tree URL (kernel + initrd, like --location)"),
    ("pxe", "Network boot (PXE)"),
    ("import", "Import an existing disk"),
]
DEFAULTS = {"memory_mib": 1024, "vcpus": 1, "disk_gib": 10}


def creatable_hosts(user):
    r = rights(user, "vm.create")
    return Host.objects.all() if r.everything else Host.objects.filter(pk__in=r.ids("host") or [])


def user_teams(user):
    return Team.objects.all() if user.is_superuser else user.teams.all()


def _id(value):
    return int(value) if str(value or "").isdigit() else None


def os_defaults(entry):
    """Memory, vCPUs and disk size the OS recommends, or the wizard's defaults."""
    if entry is None:
        return dict(DEFAULTS)
    return {
        "memory_mib": entry.recommended_ram_mib() or DEFAULTS["memory_mib"],
        "vcpus": entry.recommended_vcpus() or DEFAULTS["vcpus"],
        "disk_gib": entry.recommended_disk_gib() or DEFAULTS["disk_gib"],
    }


def _default_pool(pools):
    """The pool named "default", else the first directory pool, else none (its pk, or "")."""
    chosen = next((p for p in pools if p.name == "default"), None)
    chosen = chosen or next((p for p in pools if p.pool_type == "dir"), None)
    return chosen.pk if chosen else ""


def _default_network(nets):
    """The network named "default" (libvirt's NAT network), else the first, else none."""
    names = [n.name for n in nets]
    return "default" if "default" in names else (names[0] if names else "")


class Offered(forms.ChoiceField):
    """A pick among the pools or volumes the page offered. A value outside them is not refused
    here: the form looks it up and the service says why it cannot be used."""

    def valid_value(self, value):
        return True


def _seen(user, model, pk, field, what):
    """The pool or volume with id `pk`. One that does not exist and one the user may not see are
    refused alike, without a word of what it is (the latter audited as a refusal, by id)."""
    related = "pool__host" if model is StorageVolume else "host"
    obj = model.objects.select_related(related).filter(pk=pk).first()
    if obj is not None and may(user, "storage.view", obj):
        return obj
    if obj is not None:
        with contextlib.suppress(PermissionDenied):
            authorize(user, "storage.view", obj)
    raise CreateError(field, f"There is no such {what} that you may see.")


class WizardControls(forms.Form):
    """What sent the wizard rather than what describes the VM: the button (`step`: review,
    refresh when the host or OS changed, create), the field that changed, and the picked host's
    id (looked up and authorized by the view before the form is read)."""

    step = forms.CharField(required=False)
    changed = forms.CharField(required=False)
    host = forms.CharField(required=False)

    def clean_step(self):
        return self.cleaned_data["step"] or "review"

    def host_id(self):
        return _id(self.cleaned_data.get("host"))


class CreateForm(Styled, forms.Form):
    host = forms.ModelChoiceField(queryset=Host.objects.none(), help_text="Hosts where you may create VMs.")
    name = forms.CharField(max_length=200, help_text="Letters, digits, '.', '_' and '-'; at most 64.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, help_text="Its quota counts this VM.")
    os_id = forms.CharField(required=False, label="Operating system", help_text="From the osinfo database.")
    memory_mib = forms.IntegerField(label="Memory (MiB)", min_value=0)
    vcpus = forms.IntegerField(label="vCPUs", min_value=0)
    source = forms.ChoiceField(choices=SOURCE_CHOICES, initial="iso", widget=forms.RadioSelect, label="Install from")
    iso = Offered(required=False, label="ISO image")
    tree_url = forms.CharField(required=False, label="Install tree URL", max_length=1024)
    kernel_args = forms.CharField(required=False, label="Extra kernel arguments", max_length=1024,
                                  help_text="e.g. ks=http://192.0.2.10/ks.cfg or inst.text")  # fmt: skip
    import_volume = Offered(required=False, label="Disk to import")
    disk_pool = Offered(required=False, label="New disk on pool")
    disk_gib = forms.DecimalField(required=False, label="Disk size (GiB)", min_value=0, decimal_places=3)
    disk_format = forms.ChoiceField(choices=[("qcow2", "qcow2"), ("raw", "raw")], initial="qcow2", label="Format")
    preallocate = forms.BooleanField(required=False, label="Preallocate (reserve the whole size now)")
    network = forms.ChoiceField(required=False, label="Network")
    graphics = forms.ChoiceField(choices=[("vnc", "VNC"), ("spice", "SPICE"), ("none", "none")], initial="vnc")
    listen = forms.CharField(initial="127.0.0.1", label="Listen address", max_length=64)
    firmware = forms.ChoiceField(choices=[("bios", "BIOS"), ("efi", "UEFI")], initial="bios")
    start = forms.BooleanField(required=False, initial=True, label="Start when created")

    def __init__(self, *args, user, host=None, facts=None, in_use=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.host, self.facts, self.params = user, host, facts, None
        self.in_use = in_use or {}  # {path: VM name} of the host's disks, left out of "Disk to import"
        self.iso_library = None
        self.fields["host"].queryset = creatable_hosts(user)
        self.fields["team"].queryset = user_teams(user)
        if self.fields["team"].queryset.exists() and not user.is_superuser:
            self.fields["team"].required = True
        self.fields["preallocate"].widget.attrs["class"] = "form-check-input"
        self.fields["start"].widget.attrs["class"] = "form-check-input"
        self.fields["source"].widget.attrs["class"] = "form-check-input"
        if host is not None:
            self._host_choices(host)

    @classmethod
    def refreshed(cls, data, *, changed, **kwargs):
        """The form again, unbound, with what was typed as its values (and when the OS `changed`,
        its recommended sizes): new choices, and no errors for fields not filled yet."""
        initial = data.dict()
        if changed == "host":  # the old host's pools, volumes and networks mean nothing here
            for key in ("iso", "import_volume", "disk_pool", "network"):
                initial.pop(key, None)
        if changed == "os_id":
            initial.update(os_defaults(osinfo.get(data.get("os_id", ""))))
        for box in ("start", "preallocate"):  # an unticked box is absent, not "off"
            initial[box] = data.get(box) not in (None, "", "False", "false", "off")
        return cls(initial=initial, **kwargs)

    def _host_choices(self, host):
        visible = pools_visible(self.user, host_id=host.pk)
        self.iso_library = visible.filter(is_iso_library=True).first()
        isos = iso_images(self.user, host)
        self.fields["iso"].choices = [("", "—")] + [(v.pk, v.name) for v in isos]
        manage = rights(self.user, "storage.manage")
        pools = [p for p in visible.filter(state="running", pool_type__in=DISK_POOL_TYPES) if manage.allows(p)]
        self.fields["disk_pool"].choices = [("", "no new disk")] + [(p.pk, f"{p.name} ({p.pool_type})") for p in pools]
        volumes = StorageVolume.objects.filter(pool__in=visible.filter(is_iso_library=False)).select_related("pool")
        free = [v for v in volumes if v.path not in self.in_use]
        self.fields["import_volume"].choices = [("", "—")] + [(v.pk, f"{v.pool.name}/{v.name}") for v in free]
        if len(free) < len(volumes):
            used = sorted(f"{v.name} ({self.in_use[v.path]})" for v in volumes if v.path in self.in_use)
            self.fields["import_volume"].help_text = "In use by other VMs, so not listed: " + ", ".join(used) + "."
        nets = [n for n in (self.facts.networks if self.facts else []) if may_use_network(self.user, n)]
        self.fields["network"].choices = [("", "no network")] + [
            (n.name, n.name + ("" if n.active else " (inactive)")) for n in nets
        ]
        if not self.is_bound:  # a host just chosen: a disk and a network that lead somewhere
            self.initial.setdefault("disk_pool", _default_pool(pools))
            self.initial.setdefault("network", _default_network(nets))

    @property
    def os_entry(self):
        key = self.data.get("os_id") if self.is_bound else self.initial.get("os_id")
        return osinfo.get(key or "")

    def clean(self):
        data = super().clean()
        host = data.get("host")
        if self.errors or host is None or self.facts is None:
            return data
        source = data["source"]

        def seen(model, key, what, used=True):
            """What the id posted in `key` names, when the chosen source uses it."""
            pk = _id(data.get(key))
            return None if pk is None or not used else _seen(self.user, model, pk, key, what)

        try:
            iso = seen(StorageVolume, "iso", "ISO image", source == "iso")
            imported = seen(StorageVolume, "import_volume", "volume", source == "import")
            pool = seen(StoragePool, "disk_pool", "pool")
            self.params = create_plan(
                actor=self.user, host=host, facts=self.facts, name=data["name"].strip(),
                memory_mib=data["memory_mib"], vcpus=data["vcpus"], source=source, team=data.get("team"),
                os_id=data.get("os_id", "").strip(), iso=iso, tree_url=data.get("tree_url", "").strip(),
                kernel_args=data.get("kernel_args", "").strip(), import_volume=imported,
                disk_pool=pool, disk_gib=data.get("disk_gib") or 0, disk_format=data["disk_format"],
                preallocate=data.get("preallocate", False), network=data.get("network", ""),
                graphics=data["graphics"], listen=data.get("listen", ""), firmware=data["firmware"],
                start=data.get("start", False),
            )  # fmt: skip
        except CreateError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return data


# -- define from XML ---------------------------------------------------------------------------

MAX_XML_BYTES = 256 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
EXAMPLE = """<domain type="kvm">
  <name>web01</name>
  <memory unit="MiB">1024</memory>
  <vcpu>1</vcpu>
  <os><type arch="x86_64">hvm</type></os>
  …
</domain>"""
_UNITS = {"b": 1, "bytes": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 1000, "m": 1 << 20, "mib": 1 << 20, "mb": 10**6,
          "g": 1 << 30, "gib": 1 << 30, "gb": 10**9, "t": 1 << 40, "tib": 1 << 40, "tb": 10**12}  # fmt: skip


class DefineXMLForm(Styled, forms.Form):
    host = forms.ModelChoiceField(queryset=Host.objects.none(), help_text="Hosts where you may create VMs.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, help_text="Its quota counts this VM.")
    xml = forms.CharField(
        label="Domain XML",
        widget=forms.Textarea(
            attrs={"rows": 18, "spellcheck": "false", "class": "form-control font-monospace", "placeholder": EXAMPLE}
        ),  # fmt: skip
        help_text="A <domain> document as virsh define takes it. libvirt validates it against its schema.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["host"].queryset = creatable_hosts(user)
        self.fields["team"].queryset = user_teams(user)
        if self.fields["team"].queryset.exists() and not user.is_superuser:
            self.fields["team"].required = True

    def clean_xml(self):
        text = self.cleaned_data["xml"]
        if len(text.encode()) > MAX_XML_BYTES:
            raise forms.ValidationError(f"The XML is larger than {MAX_XML_BYTES // 1024} KiB.")
        try:
            tree = etree.fromstring(text.encode(), _PARSER).getroottree()
        except etree.XMLSyntaxError as exc:
            raise forms.ValidationError(f"This is not well-formed XML: {exc.msg}") from None
        if tree.docinfo.doctype:
            raise forms.ValidationError("DOCTYPE declarations are not accepted.")
        root = tree.getroot()
        if root.tag != "domain":
            raise forms.ValidationError(f"The root element must be domain, not {root.tag}.")
        self.vm_name = (root.findtext("name") or "").strip()
        try:
            self.vcpus = int((root.findtext("vcpu") or "1").strip())
            mem = root.find("memory")
            amount = int((mem.text or "0").strip()) if mem is not None else 0
            self.memory_mib = amount * _UNITS.get((mem.get("unit") or "KiB").lower(), 1 << 10) // (1 << 20)
        except (ValueError, AttributeError):
            raise forms.ValidationError("<vcpu> and <memory> must be whole numbers.") from None
        self.root = root
        return etree.tostring(root, encoding="unicode")

    def clean(self):
        data = super().clean()
        host = data.get("host")
        if host is None or not hasattr(self, "root"):
            return data
        if not self.vm_name:
            self.add_error("xml", "The domain needs a <name>.")
        uuid = (self.root.findtext("uuid") or "").strip()
        try:
            uuid = str(uuidlib.UUID(uuid)) if uuid else ""
        except ValueError:
            self.add_error("xml", f"{uuid} is not a UUID.")
            return data
        if uuid and host.vms.filter(uuid=uuid, present=True).exists():
            self.add_error("xml", f"UUID {uuid} belongs to an existing VM; edit it on its XML tab instead.")
        self._check_paths(host)
        return data

    def _check_paths(self, host):
        """The XML policy (apps/compute/xmlpolicy/): every device and source is allowed by kind
        with the right it needs; anything else is refused with its element named (and audited)."""
        target = NewVM(host, self.vm_name)
        for problem in xmlpolicy.refused(self.root, user=self.user, host=host, target=target, attempt="vm.define"):
            self.add_error("xml", problem)
