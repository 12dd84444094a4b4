"""The Snapshots tab's forms: take one, and the row buttons (revert, delete) by name."""

from django import forms

from apps.compute.services import snapshots as services

from .common import PageForm, text

KINDS = [("internal", "internal"), ("external", "external")]


class SnapshotCreateForm(PageForm):
    which = "create"
    name = forms.CharField(required=False)  # stripped; the service says what a name may be
    description = text()
    kind = forms.ChoiceField(
        choices=KINDS, required=False, error_messages={"invalid_choice": "Choose internal or external."}
    )

    def clean_kind(self):
        return self.cleaned_data["kind"] or "internal"


class SnapshotNameForm(PageForm):
    which = "row"
    name = text()

    def clean_name(self):
        try:
            services.validate_name(self.cleaned_data["name"])
        except services.SnapshotError as exc:
            raise forms.ValidationError(str(exc)) from None
        return self.cleaned_data["name"]
