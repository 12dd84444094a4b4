"""What every VM page view shares: the VM if the user may view or change it, or the right refusal;
libvirt reads (apps/hosts/reads.py); how a tab answers; how a tab's form posts.

A tab answers with the same context keys everywhere (see `tab`):
- `vm`, and `tab_url`, where the tab re-reads itself (also after a POST to another URL);
- `form`: the form that was sent, or None; its refusals sit in its errors, by its fields;
- `error`: what the page could not read from libvirt (a sentence, shown instead of the data);
- `notice`: what was done, e.g. an operation queued (its outcome follows live).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from apps.authz.rights import authorize, may
from apps.compute.models import VirtualMachine
from apps.compute.selectors import vm_for
from apps.core.errors import VirtError
from apps.core.htmx import render_page
from apps.hosts.reads import read, read_on_host  # noqa: F401  (the tabs import them from here)


def vm_or_403(request, pk):
    """The VM, or 404 when there is none or the user may not view it: the two answer alike, so
    nobody learns which ids exist by asking for ones they may not see."""
    vm = vm_for(request.user, pk)
    if vm is None:
        raise Http404("No such VM")
    return vm


def vm_to_change(request, pk, permission):
    """The VM a POST acts on: 404 when it is gone or the user may not even view it, 403 (audited)
    when they may view it but lack the right — checked before the view looks at the input, so a
    refusal says nothing about it."""
    vm = get_object_or_404(VirtualMachine.objects.select_related("host", "team"), pk=pk, present=True)
    try:
        authorize(request.user, permission, vm)  # a refusal is audited either way
    except PermissionDenied:
        if not may(request.user, "vm.view", vm):
            raise Http404("No such VM") from None
        raise
    return vm


def tab(request, vm, key, template, context, *, form=None, notice="", partial=None):
    """Answer for tab `key` (overview, disks, …): its template, or for an htmx request the named
    partial when one is given (render_page decides), with the fixed keys above."""
    context = {
        "vm": vm,
        "tab_url": reverse(f"compute:vm_{key}", args=[vm.pk]),
        "form": form,
        "error": "",
        "notice": notice,
        **context,
    }
    return render_page(request, template, context, partial=partial)


def send(form, action, *, also=()):
    """Send a VM page's form: `action()` calls the service once the form has read the POST, and
    returns the operation it queued (also kept as `form.op`), or None when refused.

    A refusal lands in the form, by its field where the error names one: the form's own checks,
    a ValueError from the service (DiskError, NicError, QuotaExceeded …), libvirt refusing a read
    the service needs (VirtError), and the exceptions in `also` (the clone page's PermissionDenied,
    which is then marked `form.denied`).
    """
    if not form.is_valid():
        return None
    try:
        form.op = action()
    except (ValueError, *also) as exc:
        form.refuse(exc, getattr(exc, "field", None))
        form.denied = isinstance(exc, PermissionDenied)
    except VirtError as exc:
        form.refuse(f"{form.unreadable}: {exc}" if form.unreadable else exc)
    return form.op


def submit(request, vm, form, action, answer, *, done=None):
    """A tab's form, sent (see `send`). For htmx the answer is `answer(form=form)`, which shows a
    refusal beside the form, or `answer(form=form, notice=…)` once queued (`done(op)` words the
    notice; by default it names the operation, whose outcome follows live). Without htmx: a 400
    with the reason, or back to the VM's page."""
    op = send(form, action)
    if not request.htmx:
        return redirect("compute:vm_detail", pk=vm.pk) if op is not None else HttpResponse(form.refusal, status=400)
    if op is None:
        return answer(form=form)
    notice = done(op) if done else f"Queued ({op.kind}); the result shows in the operations panel."
    return answer(form=form, notice=notice)
