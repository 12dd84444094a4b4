"""The XML tab: the domain XML (saved, and live when running), and editing it.

How a user sees libvirt's refusal without reloading: the form posts; what the request can check
(well-formed, same UUID and name) comes back at once as a form error. A valid edit is queued, and
the answer is the same form, text kept, in a "saving" state that carries a listener for that
operation: when the operation's row in the panel is swapped in finished (the live socket pushes
every change of it), or had already finished when the form arrived, the listener re-reads this tab
with ?op=N. The tab then shows, for its author only, the operation's outcome: libvirt's message
beside the text they sent (kept in the operation row), or the new definition. No polling: one
re-read when the operation ends.
"""

from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import rights
from apps.compute.forms.xml import XmlEditForm
from apps.compute.services import xmledit as services
from apps.compute.views.common import read, submit, tab, vm_or_403, vm_to_change
from apps.operations.models import Operation

TEMPLATE = "compute/tabs/xml.html"


def _own_edit(request, vm):
    """The edit operation named by ?op=, if it is this user's, on this VM."""
    op_id = request.GET.get("op", "")
    if not op_id.isdigit():
        return None
    return Operation.objects.filter(
        pk=int(op_id), kind="vm.xml_edit", target_type="vm", target_id=str(vm.pk), actor=request.user
    ).first()


@needs("vm.view", per_object=True)
@require_GET
def vm_xml(request, pk):
    vm = vm_or_403(request, pk)
    can_edit = rights(request.user, "vm.edit").allows(vm)
    saved, error = read(lambda: services.read_xml(vm, live=False), default="")
    context = {"can_edit": can_edit, "saved": saved, "text": saved, "error": error}
    if vm.state in ("running", "paused", "blocked"):
        context["live"], _ = read(lambda: services.read_xml(vm, live=True), default="")
    op = _own_edit(request, vm) if can_edit else None
    if op is not None:
        context["op"] = op
        if not op.finished or op.status != "succeeded":
            # Waiting, or refused: the user's own text stays in the form (gone once defined).
            context["text"] = op.params.get("xml", saved)
    return tab(request, vm, "xml", TEMPLATE, context)


@needs("vm.edit", per_object=True)
@require_POST
def vm_xml_save(request, pk):
    vm = vm_to_change(request, pk, "vm.edit")
    form = XmlEditForm(request.POST)

    def action():
        return services.vm_xml_edit(actor=request.user, vm=vm, xml=form.cleaned_data["xml"])

    def answer(form, notice=""):
        # The text stays as sent; a queued edit shows its operation, whose listener waits for it.
        context = {"can_edit": True, "text": form.data.get("xml", ""), "op": form.op}
        return tab(request, vm, "xml", TEMPLATE, context, form=form, partial="xml_form")

    return submit(request, vm, form, action, answer)


urlpatterns = [
    path("<int:pk>/xml/", vm_xml, name="vm_xml"),
    path("<int:pk>/xml/save/", vm_xml_save, name="vm_xml_save"),
]
