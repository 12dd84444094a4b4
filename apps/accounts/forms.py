from django import forms
from django.contrib.auth.password_validation import validate_password

from apps.authz import scopes
from apps.authz.models import Role
from apps.authz.permissions import PERMISSIONS

from .models import Team, User


def validate_display_name(value):
    """Team and role names appear in lists, grant pickers, the audit log and exports: one line of
    visible text, not a path-like "." or "..", and no blanks at either end that make two names
    look alike."""
    if any(ch in value for ch in "\r\n\t") or not value.isprintable():
        raise forms.ValidationError("Use one line of text: no line breaks, tabs or control characters.")
    if value != value.strip():
        raise forms.ValidationError("Remove the blanks at the start or end.")
    if value.strip(".") == "":
        raise forms.ValidationError("A name needs more than dots.")


class DisplayNameMixin:
    """The model's `name` field, kept as typed (not stripped) so it can be judged and refused."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].strip = False
        self.fields["name"].validators.append(validate_display_name)


class Styled:
    """Gives every widget Bootstrap's classes so templates can render fields plainly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
            widget.attrs.setdefault("class", css)


class UserCreateForm(Styled, forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]{1,150}$",
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use only letters, digits and @ . + - _."},
    )
    email = forms.EmailField(required=False)
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Leave empty to generate one, shown once."
    )
    superuser = forms.BooleanField(required=False, label="Administrator (may do everything)")

    def clean_username(self):
        name = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError("A user with that name exists.")
        return name

    def clean_password(self):
        password = self.cleaned_data["password"]
        if password:
            validate_password(password)
        return password or None


class UserEditForm(Styled, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "is_active"]


class TeamForm(DisplayNameMixin, Styled, forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "description", "max_vms", "max_vcpus", "max_memory_mib", "max_disk_gib"]
        labels = {
            "max_vms": "Quota: VMs",
            "max_vcpus": "vCPUs",
            "max_memory_mib": "Memory (MiB)",
            "max_disk_gib": "Disk (GiB)",
        }
        help_texts = {"max_vms": "Blank means no limit (for every quota)."}


class MemberForm(Styled, forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("username"))


class RoleForm(DisplayNameMixin, Styled, forms.ModelForm):
    permissions = forms.MultipleChoiceField(choices=list(PERMISSIONS.items()), widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Role
        fields = ["name", "description", "permissions"]


class GrantForm(Styled, forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.all())
    scope = forms.ChoiceField(required=False, label="On")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scopes.choices()

    def clean_scope(self):
        try:
            return scopes.resolve(self.cleaned_data["scope"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
