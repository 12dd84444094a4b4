"""The VM list's bulk form: one power action for the ticked rows, or again for the VMs whose
operations failed ("Retry failed" in the bulk result posts them as `retry`)."""

from django import forms

from apps.compute import services


class IdsField(forms.Field):
    """Every posted value that is a number; the rest are ignored."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        return [int(v) for v in value or [] if str(v).isdigit()]


class BulkPowerForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in services.POWER_ACTIONS])
    vm = IdsField()
    retry = IdsField()

    def clean(self):
        data = super().clean()
        data["vm"] = data.get("vm") or data.get("retry") or []
        if not data["vm"]:
            raise forms.ValidationError("Choose one or more VMs and an action.")
        return data


class BulkOperationsForm(forms.Form):
    """The operations a bulk result shows, when it re-reads their lines."""

    op = IdsField()
