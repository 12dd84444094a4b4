"""The create wizard (virt-install's parity) and define-from-XML.

One page with sections. Changing the host or the OS re-renders the form (the host decides which
pools, ISOs and networks are offered; the OS brings its recommended memory, vCPUs and disk size);
"Review" checks everything and shows the XML that will be defined; "Create" queues the operation
and goes to the VM list, where the operations panel follows it. No view calls libvirt to change
anything: the only calls here read the host's networks, domain capabilities and which disks its
domains have (so "Disk to import" leaves out volumes other VMs use).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.compute import osinfo
from apps.compute.forms.create import CreateForm, DefineXMLForm, WizardControls, creatable_hosts, os_defaults
from apps.compute.services import create as services
from apps.compute.services import create_xml
from apps.compute.views.common import read, read_on_host
from apps.compute.virt import disks
from apps.core.htmx import render_page
from apps.hosts.models import Host
from apps.storage.models import StorageVolume
from apps.storage.selectors import pools_visible


def _hosts_or_403(request):
    hosts = creatable_hosts(request.user)
    if not hosts.exists():
        authorize(request.user, "vm.create")  # 403, audited
    return hosts


def _host(request, hosts, pk):
    """The host with id `pk` (None: the only one there is, if only one)."""
    if pk is not None:
        host = Host.objects.filter(pk=pk).first()
        if host is not None:
            authorize(request.user, "vm.create", host)  # a host outside the picker is a forged request
        return host
    return hosts.first() if hosts.count() == 1 else None


def _host_id(value):
    return int(value) if (value or "").isdigit() else None


def _facts(host):
    if host is None:
        return None, ""
    facts, error = read(lambda: services.host_facts(host))
    return facts, f"Cannot read {host.name}: {error}" if error else ""


def _in_use(user, host):
    """{path: VM name} of the volumes the wizard could import that a domain of the host has as a
    disk (not shareable): "Disk to import" leaves them out. One reading of the host's domains."""
    if host is None:
        return {}
    pools = pools_visible(user, host_id=host.pk).filter(is_iso_library=False)
    paths = set(StorageVolume.objects.filter(pool__in=pools).values_list("path", flat=True))

    def users(conn):
        found = {}
        for source, holders in disks.disk_users(conn).items():
            names = [u.domain_name for u in holders if not u.shareable]
            if source in paths and names:
                found[source] = names[0]
        return found

    return read_on_host(host, users, {})[0]


def _form(request, *args, host, facts, **kwargs):
    in_use = _in_use(request.user, host)
    return CreateForm(*args, user=request.user, host=host, facts=facts, in_use=in_use, **kwargs)


def _render(request, form, *, host, error="", xml="", final=""):
    entry = form.os_entry
    # What was typed in the OS search stays, with its matches, after a pick re-renders the form.
    query = (request.POST if request.method == "POST" else request.GET).get("q", "")[:100]
    found = osinfo.search(query, limit=40)
    context = {
        "form": form,
        "host": host,
        "error": error,
        "os_entry": entry,
        "os_query": query,
        "os_choices": ([entry] if entry else []) + [o for o in found if o is not entry],
        "xml": xml,
        "final_xml": final,
        "limits": form.facts.limits if form.facts else None,
    }
    return render_page(request, "compute/create/wizard.html", context, partial="create_form")


@needs("vm.create", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_create(request):
    hosts = _hosts_or_403(request)
    if request.method == "GET":
        host = _host(request, hosts, _host_id(request.GET.get("host")))
        facts, error = _facts(host)
        os_id = request.GET.get("os", "")
        initial = {"host": host, "os_id": os_id, "start": True, **os_defaults(osinfo.get(os_id))}
        form = _form(request, host=host, facts=facts, initial=initial)
        return _render(request, form, host=host, error=error)
    controls = WizardControls(request.POST)
    controls.is_valid()  # every field is optional text
    host = _host(request, hosts, controls.host_id())
    facts, error = _facts(host)
    step = controls.cleaned_data["step"]
    if step == "refresh":  # host or OS changed: new choices, and the OS's recommendations
        changed = controls.cleaned_data["changed"]
        form = CreateForm.refreshed(
            request.POST, changed=changed, user=request.user, host=host, facts=facts, in_use=_in_use(request.user, host)
        )
        return _render(request, form, host=host, error=error)
    form = _form(request, request.POST, host=host, facts=facts)
    if not form.is_valid() or form.params is None:
        if not form.errors and error:
            form.add_error("host", error)
        return _render(request, form, host=host, error=error)
    if step == "create":
        try:
            op = services.vm_create(actor=request.user, host=host, params=form.params)
        except services.CreateError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            return _render(request, form, host=host, error=error)
        messages.info(request, f"Creating {op.target_name} on {host.name}: follow it in the operations panel.")
        url = reverse("compute:vm_list") + f"?host={host.pk}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render(request, form, host=host, xml=_preview(form.params), final=_final(form.params))


def _preview(params):
    images = {}
    if params["source"] == "tree":
        pool_dir = params["disk"]["path"].rsplit("/", 1)[0]
        images = {"kernel": f"{pool_dir}/{params['name']}.vmlinuz", "initrd": f"{pool_dir}/{params['name']}.initrd"}
    return create_xml.install_xml(params, **images)


def _final(params):
    if params["source"] == "import" or not params["start"]:
        return ""
    return create_xml.final_xml(params)


@needs("vm.create", per_object=True)
@require_GET
def vm_os_search(request):
    """The searchable OS list: options matching the typed words, newest first."""
    _hosts_or_403(request)
    query = request.GET.get("q", "")[:100]
    found = osinfo.search(query, limit=40, include_eol=request.GET.get("eol") == "on")
    return render(request, "compute/create/_os_options.html", {"os_choices": found, "query": query})


@needs("vm.create", per_object=True)
@require_http_methods(["GET", "POST"])
def vm_define_xml(request):
    hosts = _hosts_or_403(request)
    if request.method == "GET":
        host = _host(request, hosts, _host_id(request.GET.get("host")))
        form = DefineXMLForm(user=request.user, initial={"host": host})
        return render_page(request, "compute/create/define_xml.html", {"form": form}, partial="define_form")
    controls = WizardControls(request.POST)
    controls.is_valid()
    _host(request, hosts, controls.host_id())  # 403, audited, for a host outside the picker
    form = DefineXMLForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            op = services.vm_define_xml(
                actor=request.user, host=d["host"], xml=d["xml"], name=form.vm_name, vcpus=form.vcpus,
                memory_mib=form.memory_mib, team=d.get("team"),
            )  # fmt: skip
        except services.CreateError as exc:
            form.add_error("team" if exc.field == "team" else "xml", str(exc))
        else:
            messages.info(request, f"Defining {op.target_name} on {d['host'].name}: follow it in the operations panel.")
            url = reverse("compute:vm_list") + f"?host={d['host'].pk}"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    status = 200 if request.htmx else 400
    return render_page(request, "compute/create/define_xml.html", {"form": form}, partial="define_form", status=status)


urlpatterns = [
    path("new/", vm_create, name="vm_create"),
    path("new/os/", vm_os_search, name="vm_os_search"),
    path("new/xml/", vm_define_xml, name="vm_define_xml"),
]
