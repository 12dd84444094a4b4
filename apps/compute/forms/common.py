"""What every form of a VM page shares: one sentence for a refusal, and where a change applies.

The forms only read the POST; the services judge the values and say why they refuse, in words
the page shows as they are. So most fields are plain text, not required, and a service's refusal
is added to the form that carried the input (`refuse`).
"""

from django import forms


class PageForm(forms.Form):
    """A form of a VM page. `which` tells the page which of its forms was sent, so the refusal is
    shown beside that one."""

    which = ""
    # Said before libvirt's words when a read the service needs fails ("" says them alone).
    unreadable = ""
    op = None  # the operation the form queued, once sent
    denied = False  # refused for want of a right (the page answers 403 without htmx)

    def refuse(self, message, field=None):
        self.add_error(field if field in self.fields else None, str(message))

    @property
    def refusal(self):
        """The first reason the input was refused, or "" (the page shows one sentence)."""
        for errors in self.errors.values():
            return errors[0]
        return ""


def text(**kwargs):
    return forms.CharField(required=False, strip=False, **kwargs)


class ScopedForm(PageForm):
    """A change that applies to the running VM, its saved configuration, or both: from the form's
    Live/Config boxes, or from the tab's "row buttons apply to" select (`scope`)."""

    scope = text()
    live = forms.BooleanField(required=False)
    config = forms.BooleanField(required=False)

    def flags(self):
        """(live, config)."""
        scope, d = self.cleaned_data["scope"], self.cleaned_data
        if scope in ("live", "config", "both"):
            return scope in ("live", "both"), scope in ("config", "both")
        return d["live"], d["config"]
