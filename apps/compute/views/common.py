"""What every VM page view needs: the VM if the user may view or change it, or the right refusal;
and how a tab's forms post."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from apps.authz.rights import authorize
from apps.compute.models import VirtualMachine
from apps.compute.selectors import vm_for


def vm_or_403(request, pk):
    """The VM, 404 when there is none, 403 when it exists but the user may not view it."""
    vm = vm_for(request.user, pk)
    if vm is None:
        if VirtualMachine.objects.filter(pk=pk).exists():
            raise PermissionDenied("You may not view this VM.")
        raise Http404("No such VM")
    return vm


def vm_to_change(request, pk, permission):
    """The VM a POST acts on: 404 when it is gone, 403 (audited) without the right — checked
    before the view looks at the input, so a refusal says nothing about it."""
    vm = get_object_or_404(VirtualMachine.objects.select_related("host", "team"), pk=pk, present=True)
    authorize(request.user, permission, vm)
    return vm


def scope_flags(request):
    """live/config from the form's checkboxes, or from a tab's "row buttons apply to" select."""
    scope = request.POST.get("scope")
    if scope in ("live", "config", "both"):
        return scope in ("live", "both"), scope in ("config", "both")
    return request.POST.get("live") == "on", request.POST.get("config") == "on"


def act_in_tab(request, vm, form, action, render_tab):
    """Run a service call for a tab's form. A ValueError (bad input: DiskError, NicError,
    QuotaExceeded …) comes back in the tab beside the form, or as a 400 without htmx; a queued
    operation as a note (its result follows live)."""
    try:
        op = action()
    except ValueError as exc:
        if not request.htmx:
            return HttpResponse(str(exc), status=400)
        return render_tab(request, vm, form=form, error=str(exc))
    if not request.htmx:
        return redirect("compute:vm_detail", pk=vm.pk)
    return render_tab(request, vm, form=form, notice=f"Queued ({op.kind}); the result shows in the operations panel.")
