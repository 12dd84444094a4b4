"""User, team, role and grant management for administrators (permission user.manage)."""

import secrets

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.models import Grant, Role
from apps.authz.permissions import PERMISSIONS

from . import services
from .forms import GrantForm, MemberForm, RoleForm, TeamForm, UserCreateForm, UserEditForm
from .models import Team, User


def _fail(request, exc):
    messages.error(request, str(exc))


def grant_form():
    """The grant form as the pages show it: "On" as a list of eight rows grouped by type, searched
    by static/js/picker.js, with nothing chosen (the server refuses a grant with no scope)."""
    form = GrantForm()
    # A list box shows its rows, so it needs no "choose…" row; with none selected, the browser
    # asks for a choice before sending.
    form.fields["scope"].choices = [choice for choice in form.fields["scope"].choices if choice[0] != ""]
    form.fields["scope"].widget.attrs.update(
        {"size": 8, "required": True, "class": "form-select form-select-sm scope-picker-list"}
    )
    return form


@needs("user.manage")
def user_list(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                email=data["email"],
                superuser=data["superuser"],
            )
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            if data["password"] is None:
                messages.info(request, f"Password for {user.username} (shown once): {password}")
            return redirect("accounts:user_detail", pk=user.pk)
    users = User.objects.annotate(grant_count=Count("grants", distinct=True)).prefetch_related("teams")
    return render(request, "accounts/user_list.html", {"users": users.order_by("username"), "form": form})


@needs("user.manage")
def user_detail(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=User.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, **{f: form.cleaned_data[f] for f in form.changed_data})
        except services.AccountError as exc:
            _fail(request, exc)
        return redirect("accounts:user_detail", pk=pk)
    context = {
        "subject": user,
        "form": form,
        "grants": user.grants.select_related("role"),
        "team_grants": Grant.objects.filter(team__members=user).select_related("role", "team"),
        "teams": user.teams.all(),
        "grant_form": grant_form(),
    }
    return render(request, "accounts/user_detail.html", context)


@needs("user.manage")
@require_POST
def user_reset_password(request, pk):
    user = get_object_or_404(User, pk=pk)
    password = secrets.token_urlsafe(12)
    services.user_set_password(actor=request.user, user=user, password=password)
    messages.info(request, f"New password for {user.username} (shown once): {password}")
    return redirect("accounts:user_detail", pk=pk)


@needs("user.manage")
@require_POST
def user_logout_everywhere(request, pk):
    user = get_object_or_404(User, pk=pk)
    services.user_logout_everywhere(actor=request.user, user=user)
    messages.success(request, f"{user.username} is signed out of every session.")
    return redirect("accounts:user_detail", pk=pk)


@needs("user.manage")
def team_list(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            team = services.team_create(actor=request.user, **data)
        except services.AccountError as exc:
            form.add_error("name", str(exc))
        else:
            return redirect("accounts:team_detail", pk=team.pk)
    teams = Team.objects.annotate(member_count=Count("members", distinct=True))
    return render(request, "accounts/team_list.html", {"teams": teams, "form": form})


@needs("user.manage")
def team_detail(request, pk):
    team = get_object_or_404(Team, pk=pk)
    form = TeamForm(request.POST or None, instance=Team.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        services.team_update(actor=request.user, team=team, **{f: form.cleaned_data[f] for f in form.changed_data})
        return redirect("accounts:team_detail", pk=pk)
    context = {
        "team": team,
        "form": form,
        "members": team.members.order_by("username"),
        "member_form": MemberForm(),
        "grants": team.grants.select_related("role"),
        "grant_form": grant_form(),
    }
    return render(request, "accounts/team_detail.html", context)


@needs("user.manage")
@require_POST
def team_member(request, pk, op):
    if op not in ("add", "remove"):
        raise Http404("No such operation")
    team = get_object_or_404(Team, pk=pk)
    form = MemberForm(request.POST)
    if not form.is_valid():
        _fail(request, "Pick an active user.")
    elif op == "add":
        services.team_member_add(actor=request.user, team=team, user=form.cleaned_data["user"])
    else:
        services.team_member_remove(actor=request.user, team=team, user=form.cleaned_data["user"])
    return redirect("accounts:team_detail", pk=pk)


@needs("user.manage")
@require_POST
def team_delete(request, pk):
    services.team_delete(actor=request.user, team=get_object_or_404(Team, pk=pk))
    return redirect("accounts:team_list")


@needs("user.manage")
def role_list(request):
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_create(actor=request.user, **form.cleaned_data)
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("accounts:role_list")
    roles = Role.objects.annotate(grant_count=Count("grants"))
    return render(request, "accounts/role_list.html", {"roles": roles, "form": form, "permissions": PERMISSIONS})


@needs("user.manage")
def role_detail(request, pk):
    role = get_object_or_404(Role, pk=pk)
    form = RoleForm(request.POST or None, instance=Role.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            services.role_update(
                actor=request.user, role=role, permissions=data["permissions"], description=data["description"]
            )
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("accounts:role_list")
    return render(request, "accounts/role_detail.html", {"role": role, "form": form, "permissions": PERMISSIONS})


@needs("user.manage")
@require_POST
def role_delete(request, pk):
    try:
        services.role_delete(actor=request.user, role=get_object_or_404(Role, pk=pk))
    except services.AccountError as exc:
        _fail(request, exc)
    return redirect("accounts:role_list")


@needs("user.manage")
@require_POST
def grant_add(request, kind, pk):
    if kind not in ("user", "team"):
        raise Http404("Grants go to users or teams")
    principal = get_object_or_404(User if kind == "user" else Team, pk=pk)
    form = GrantForm(request.POST)
    if form.is_valid():
        who = {"user": principal} if kind == "user" else {"team": principal}
        services.grant_add(actor=request.user, role=form.cleaned_data["role"], scope=form.cleaned_data["scope"], **who)
    else:
        _fail(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"accounts:{kind}_detail", pk=pk)


@needs("user.manage")
@require_POST
def grant_remove(request, pk):
    grant = get_object_or_404(Grant, pk=pk)
    back = ("accounts:user_detail", grant.user_id) if grant.user_id else ("accounts:team_detail", grant.team_id)
    services.grant_remove(actor=request.user, grant=grant)
    return redirect(back[0], pk=back[1])


@needs("vm.view", per_object=True)
@require_GET
def me(request):
    """Where the user sees their own teams and rights."""
    user = request.user
    context = {
        "subject": user,
        "grants": user.grants.select_related("role"),
        "team_grants": Grant.objects.filter(team__members=user).select_related("role", "team"),
        "teams": user.teams.all(),
        "own": True,
    }
    return render(request, "accounts/user_detail.html", context)
