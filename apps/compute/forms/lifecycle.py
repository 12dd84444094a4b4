"""The clone and delete pages' forms."""

from django import forms

from .common import PageForm, text


class CloneForm(PageForm):
    """The new name, the team, and for each disk that is copied the pool for its copy (field
    pool_<target>; ids are looked up among the host's pools by the view, and the service refuses a
    pool the user may not manage)."""

    which = "clone"
    name = text()
    team = text()

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        for disk in plan.copied if plan else []:
            self.fields[f"pool_{disk.spec.target}"] = text()

    def pool_ids(self):
        """{target: pool id} for the pools picked by number; anything else is ignored."""
        picked = {}
        for field, value in self.cleaned_data.items():
            if field.startswith("pool_") and value.isdigit():
                picked[field.removeprefix("pool_")] = int(value)
        return picked


class DeleteForm(PageForm):
    which = "delete"
    volumes = forms.BooleanField(required=False)
    snapshots = forms.BooleanField(required=False)
    nvram = forms.BooleanField(required=False)
    confirm = text()

    def options(self):
        return {k: self.cleaned_data[k] for k in ("volumes", "snapshots", "nvram")}
