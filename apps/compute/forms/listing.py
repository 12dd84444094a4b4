"""The VM list's bulk form: one power action for the ticked rows."""

from django import forms

from apps.compute import services


class VmIdsField(forms.Field):
    """Every posted `vm` value that is a number; the rest are ignored."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return [int(v) for v in value or [] if str(v).isdigit()]


class BulkPowerForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in services.POWER_ACTIONS])
    vm = VmIdsField()
