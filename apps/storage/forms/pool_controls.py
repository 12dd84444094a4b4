"""Small forms for what the pool pages post besides a pool's description: which step of the
create page was pressed (and for which host), and the ISO-library switch."""

from django import forms


class PoolStepForm(forms.Form):
    """The create page's button (preview, back, define) and the picked host's id, read before
    the pool's own form so a host outside the picker is refused as a forged request."""

    step = forms.CharField(required=False)
    host = forms.CharField(required=False)

    def clean_step(self):
        return self.cleaned_data["step"] or "preview"

    def host_id(self):
        value = self.cleaned_data.get("host", "")
        return int(value) if value.isdigit() else None


class IsoLibraryForm(forms.Form):
    """on=1 makes the pool its host's ISO library; anything else stops that."""

    on = forms.CharField(required=False)

    def switch_on(self):
        return self.cleaned_data["on"] == "1"
