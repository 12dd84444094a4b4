"""New pools: pick a type, fill its form, read the XML it makes, define. Or paste XML.

The pages only validate and show; defining is `pool_create`, which queues an Operation for the
host's worker. The new pool then arrives in the list live, like any other change.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.core.htmx import render_page
from apps.hosts.models import Host
from apps.storage.forms.pool_base import manageable_hosts
from apps.storage.forms.pool_controls import PoolStepForm
from apps.storage.forms.pool_define_xml import PoolXMLForm
from apps.storage.forms.pools import POOL_FORMS
from apps.storage.pool_policy import PoolPolicyError
from apps.storage.services.pools import pool_create


def _require_some_host(request):
    """403 (audited) unless the user may manage storage somewhere."""
    hosts = manageable_hosts(request.user)
    if not hosts.exists():
        authorize(request.user, "storage.manage")
    return hosts


def _posted_step(request):
    """The step pressed. A host id outside the picker is a forged request: refused as such,
    audited, not as a form error."""
    controls = PoolStepForm(request.POST)
    controls.is_valid()  # every field is optional text
    pk = controls.host_id()
    if pk is not None:
        host = Host.objects.filter(pk=pk).first()
        if host is not None:
            authorize(request.user, "storage.manage", host)
    return controls.cleaned_data["step"]


def _initial_host(request, hosts):
    pk = request.GET.get("host", "")
    if pk.isdigit():
        return hosts.filter(pk=int(pk)).first()
    return hosts.first() if hosts.count() == 1 else None


def _define(request, *, host, name, xml, build, autostart):
    authorize(request.user, "storage.manage", host)
    pool_create(actor=request.user, host=host, name=name, xml=xml, build=build, start=True, autostart=autostart)
    messages.info(request, f"Defining pool {name} on {host.name}: follow it in the operations panel.")
    url = reverse("storage:pool_list") + f"?host={host.pk}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@needs("storage.manage", per_object=True)
@require_GET
def pool_new(request):
    hosts = _require_some_host(request)
    host = _initial_host(request, hosts)
    types = [{"type": t, "label": label, "description": form.description} for t, (label, form) in POOL_FORMS.items()]
    return render_page(request, "storage/pool_create.html", {"types": types, "host": host}, partial="pool_types")


@needs("storage.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def pool_new_type(request, pool_type):
    if pool_type not in POOL_FORMS:
        raise Http404("No such pool type")
    label, form_class = POOL_FORMS[pool_type]
    hosts = _require_some_host(request)
    context = {"pool_type": pool_type, "type_label": label, "description": form_class.description}
    if request.method == "GET":
        form = form_class(user=request.user, initial={"host": _initial_host(request, hosts)})
        return _step(request, context, form)
    step = _posted_step(request)
    form = form_class(request.POST, user=request.user)
    if step == "back" or not form.is_valid():
        return _step(request, context, form)
    if step == "define":
        data = form.cleaned_data
        try:
            return _define(
                request,
                host=data["host"],
                name=data["name"],
                xml=form.to_xml(),
                build=form.build,
                autostart=data["autostart"],
            )
        except PoolPolicyError as exc:
            form.add_error(None, str(exc))
            return _step(request, context, form)
    return _step(request, context, form, xml=form.to_xml())


def _step(request, context, form, xml=None):
    context = {**context, "form": form, "xml": xml}
    return render_page(request, "storage/pool_create_form.html", context, partial="pool_create_step")


@needs("storage.manage", per_object=True)
@require_http_methods(["GET", "POST"])
def pool_new_xml(request):
    hosts = _require_some_host(request)
    if request.method == "GET":
        form = PoolXMLForm(user=request.user, initial={"host": _initial_host(request, hosts)})
    else:
        _posted_step(request)
        form = PoolXMLForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                return _define(
                    request,
                    host=data["host"],
                    name=form.pool_name,
                    xml=data["xml"],
                    build=data["build"],
                    autostart=data["autostart"],
                )
            except PoolPolicyError as exc:  # e.g. a directory over libvirt's own state
                form.add_error("xml", str(exc))
    return render_page(request, "storage/pool_create_xml.html", {"form": form}, partial="pool_xml_form")


urlpatterns = [
    path("pools/new/", pool_new, name="pool_new"),
    path("pools/new/xml/", pool_new_xml, name="pool_new_xml"),
    path("pools/new/<slug:pool_type>/", pool_new_type, name="pool_new_type"),
]
