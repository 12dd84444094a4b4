"""Secret pages: the list per host, define, set value, delete.

Pages read only the inventory, which holds no value; the value reaches a view only in a POST and
leaves it only towards the service. Form pages check `secret.manage` on GET too, so a refusal is
a 403 with an audit record before anyone types a key into a form that would be refused.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from apps.authz.decorators import needs
from apps.authz.rights import authorize, rights
from apps.core.htmx import render_page
from apps.hosts.selectors import hosts_visible
from apps.storage.forms.secrets import SecretCreateForm, SecretValueForm
from apps.storage.models import Secret, SecretUsage
from apps.storage.services import secrets as services


def _queued(request, op, what):
    messages.info(request, f"{what} — queued as operation #{op.pk}; follow it under Operations.")


def _managed_secret(request, pk):
    secret = get_object_or_404(Secret.objects.select_related("host"), pk=pk, present=True)
    authorize(request.user, "secret.manage", secret)
    return secret


@needs("storage.view", per_object=True)
@require_GET
def secret_list(request):
    hosts = hosts_visible(request.user)
    host = None
    if request.GET.get("host", "").isdigit():
        host = get_object_or_404(hosts, pk=int(request.GET["host"]))
    secrets = list(services.secrets_visible(request.user, host_id=host.pk if host else None))
    manage = rights(request.user, "secret.manage")
    for secret in secrets:
        secret.can_manage = manage.allows(secret)
    context = {
        "secrets": secrets,
        "hosts": hosts,
        "host": host,
        "can_create": manage.everything or bool(manage.ids("host")),
    }
    return render_page(request, "storage/secret_list.html", context, partial="secret_table")


@needs("storage.view", per_object=True)
@require_GET
def secret_detail(request, pk):
    secret = services.secrets_visible(request.user).filter(pk=pk).first()
    if secret is None:  # missing or not the user's to see: answered alike, so ids tell nothing
        raise Http404("No such secret")
    secret.can_manage = rights(request.user, "secret.manage").allows(secret)
    form = SecretValueForm(secret=secret) if secret.can_manage else None
    return render(request, "storage/secret_detail.html", {"secret": secret, "form": form})


def _create_initial(request, hosts):
    """?host=<id>&usage=ceph, as the RBD and iSCSI pool forms link here."""
    initial = {}
    host_id = request.GET.get("host", "")
    if host_id.isdigit():
        host = get_object_or_404(hosts_visible(request.user), pk=int(host_id))
        authorize(request.user, "secret.manage", host)
        initial["host"] = host.pk
    usage = request.GET.get("usage", "")
    if usage in SecretUsage.values:
        initial["usage_type"] = usage
    if request.GET.get("usage_id"):
        initial["usage_id"] = request.GET["usage_id"][: services.MAX_LENGTH]
    return initial


@needs("secret.manage", per_object=True)
@sensitive_post_parameters("value")  # kept out of error reports
@require_http_methods(["GET", "POST"])
def secret_create(request):
    hosts = services.hosts_for_secrets(request.user)
    if not hosts.exists():
        authorize(request.user, "secret.manage")  # refuses, and records the refusal
    initial = _create_initial(request, hosts) if request.method == "GET" else {}
    form = SecretCreateForm(request.POST or None, hosts=hosts, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            op = services.secret_define(
                actor=request.user,
                host=data["host"],
                usage_type=data["usage_type"],
                usage_id=data["usage_id"],
                description=data["description"],
                value=data["value"] or None,
            )
        except services.SecretError as exc:
            form.add_error(None, str(exc))
        else:
            _queued(request, op, f"Defining the {data['usage_type']} secret {data['usage_id']}")
            return redirect(reverse("storage:secret_list") + f"?host={data['host'].pk}")
    return render(request, "storage/secret_form.html", {"form": form})


@needs("secret.manage", per_object=True)
@sensitive_post_parameters("value")  # kept out of error reports
@require_http_methods(["GET", "POST"])
def secret_set_value(request, pk):
    secret = _managed_secret(request, pk)
    form = SecretValueForm(request.POST or None, secret=secret)
    if request.method == "POST" and form.is_valid():
        try:
            op = services.secret_set_value(actor=request.user, secret=secret, value=form.cleaned_data["value"])
        except services.SecretError as exc:
            form.add_error("value", str(exc))
        else:
            _queued(request, op, f"Setting the value of secret {secret}")
            return redirect("storage:secret_detail", pk=secret.pk)
    return render(request, "storage/secret_value.html", {"secret": secret, "form": form})


@needs("secret.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def secret_delete(request, pk):
    secret = _managed_secret(request, pk)
    if request.method == "POST":
        op = services.secret_delete(actor=request.user, secret=secret)
        _queued(request, op, f"Deleting secret {secret}")
        return redirect(reverse("storage:secret_list") + f"?host={secret.host_id}")
    return render(request, "storage/secret_confirm_delete.html", {"secret": secret})


urlpatterns = [
    path("secrets/", secret_list, name="secret_list"),
    path("secrets/new/", secret_create, name="secret_create"),
    path("secrets/<int:pk>/", secret_detail, name="secret_detail"),
    path("secrets/<int:pk>/value/", secret_set_value, name="secret_set_value"),
    path("secrets/<int:pk>/delete/", secret_delete, name="secret_delete"),
]
