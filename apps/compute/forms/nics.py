"""The NICs tab's forms: add one, and the row buttons (remove, link up or down) by MAC."""

from .common import ScopedForm, text


class NicAddForm(ScopedForm):
    which = "add"
    kind = text()
    network = text()
    source = text()
    model = text()
    mac = text()
    mode = text()

    def clean(self):
        d = super().clean()
        d["kind"] = d.get("kind") or "network"
        d["model"] = d.get("model") or "virtio"
        d["mode"] = d.get("mode") or None
        # A libvirt network is picked from a list; the other kinds name a bridge or an interface.
        d["source"] = d.get("network", "") if d["kind"] == "network" else d.get("source", "").strip()
        return d


class NicRowForm(ScopedForm):
    which = "row"
    mac = text()
    state = text()
