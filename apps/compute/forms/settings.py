"""The Settings tab's form: the raw values as typed. The service turns them into numbers and says
which field is wrong, and the page shows each reason by its field."""

from django import forms

from .common import PageForm, text

BOOT_SLOTS = 3
NUMBERS = ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib")
VALUES = ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib", "autostart", "boot", "bootmenu", "title", "description")


def _number(typed):
    """A whole number as a number, so the page can compare it with the host's figures (its
    overcommit warning); anything else stays as typed, for the service to refuse by its field."""
    text = str(typed).strip()
    return int(text) if text.isascii() and text.isdigit() else typed


class SettingsForm(PageForm):
    which = "settings"
    vcpus = text()
    max_vcpus = text()
    memory_mib = text()
    max_memory_mib = text()
    autostart = forms.BooleanField(required=False)
    boot0 = text()
    boot1 = text()
    boot2 = text()
    # The boot order as a list, from the three selects; declared so a refusal can be put by it.
    boot = forms.Field(required=False)
    bootmenu = forms.BooleanField(required=False)
    title = text()
    description = text()

    def clean(self):
        d = super().clean()
        d["boot"] = [d.get(f"boot{i}", "") for i in range(BOOT_SLOTS)]
        # Kept apart: a refusal added later takes its field out of cleaned_data, and the form
        # shows what was typed again.
        self._values = {k: _number(d[k]) if k in NUMBERS else d[k] for k in VALUES}
        return d

    def values(self):
        """What the service takes, and what the form shows again."""
        return self._values


class DisplayForm(PageForm):
    """The display and console settings: a new VNC password (never shown again), or clearing
    it; adding a VNC display or a serial console."""

    which = "display"
    password = text(max_length=64)
    clear_password = forms.BooleanField(required=False)
    add_vnc = forms.BooleanField(required=False)
    add_serial = forms.BooleanField(required=False)
