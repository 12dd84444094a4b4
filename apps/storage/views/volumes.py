"""Volume actions on the pool page, and the two transfer endpoints the upload script and the
browser's download use.

No view calls libvirt: each queues an Operation through a service, and the transfer endpoints
only move bytes between the browser and Redis. Authorization comes first in every view, so a
viewer gets 403 before any form error. htmx form posts answer with the partial they replace
(200 even for errors, since htmx swaps only 2xx); plain posts redirect back with a message.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from apps.authz.decorators import needs
from apps.authz.rights import authorize
from apps.operations.models import Operation
from apps.storage.forms.volumes import VolumeCloneForm, VolumeCreateForm, VolumeResizeForm, VolumeUploadForm
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.services import transfer
from apps.storage.services import volumes as services
from apps.storage.services.pipe import CHUNK_SIZE, Pipe

ACTIONS = ("resize", "clone", "wipe", "delete")


def _pool(request, pk):
    pool = get_object_or_404(StoragePool.objects.select_related("host"), pk=pk, present=True)
    authorize(request.user, "storage.manage", pool)
    pool.can_manage = True
    return pool


def _volume(request, pk):
    volume = get_object_or_404(StorageVolume.objects.select_related("pool__host"), pk=pk, pool__present=True)
    authorize(request.user, "storage.manage", volume)
    return volume


def _first_error(form):
    for errors in form.errors.values():
        return errors[0]
    return "Check the form."


def _message(request, pool, text, *, error=False, status=200):
    """htmx: the message fragment for #volume-messages; otherwise back to the pool page."""
    if request.htmx:
        context = {"error": text} if error else {"notice": text}
        return render(request, "storage/_volume_message.html", context, status=status)
    (messages.error if error else messages.info)(request, text)
    return redirect("storage:pool_detail", pk=pool.pk)


def _queued(op):
    return f"{op.kind} {op.target_name} queued as operation #{op.pk}; follow it under Operations."


@needs("storage.manage", per_object=True)
@require_POST
def volume_create(request, pk):
    pool = _pool(request, pk)
    form = VolumeCreateForm(request.POST, pool=pool)
    notice = ""
    if form.is_valid():
        try:
            op = services.volume_create(actor=request.user, **form.service_kwargs())
        except services.VolumeError as exc:
            form.add_error(None, str(exc))
        else:
            if not request.htmx:
                messages.info(request, _queued(op))
                return redirect("storage:pool_detail", pk=pool.pk)
            form, notice = VolumeCreateForm(pool=pool), _queued(op)
    context = {"pool": pool, "volumes": pool.volumes.all(), "create_form": form, "notice": notice}
    if request.htmx:
        return render(request, "storage/_volume_create_form.html", context)
    return render(request, "storage/pool_detail.html", context, status=400)


@needs("storage.manage", per_object=True)
@require_POST
def volume_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404("No such action")
    volume = _volume(request, pk)
    form = None
    if action == "resize":
        form = VolumeResizeForm(request.POST)
    elif action == "clone":
        form = VolumeCloneForm(request.POST, volume=volume)
    if form is not None and not form.is_valid():
        return _message(request, volume.pool, f"{volume.name}: {_first_error(form)}", error=True)
    try:
        if action == "resize":
            d = form.cleaned_data
            op = services.volume_resize(
                actor=request.user, volume=volume, capacity=d["capacity"], unit=d["unit"], shrink=d["shrink"]
            )
        elif action == "clone":
            op = services.volume_clone(actor=request.user, volume=volume, new_name=form.cleaned_data["new_name"])
        elif action == "wipe":
            op = services.volume_wipe(actor=request.user, volume=volume)
        else:
            op = services.volume_delete(actor=request.user, volume=volume)
    except services.VolumeError as exc:
        return _message(request, volume.pool, f"{volume.name}: {exc}", error=True)
    return _message(request, volume.pool, _queued(op))


@needs("storage.manage", per_object=True)
@require_POST
def volume_upload(request, pk):
    """Start an upload: the script declares name and size, then sends chunks to chunk_url."""
    pool = _pool(request, pk)
    form = VolumeUploadForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    d = form.cleaned_data
    try:
        op = transfer.volume_upload(
            actor=request.user, pool=pool, name=d["name"], size=d["size"], existing=d["existing"]
        )
    except services.VolumeError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {
            "operation": op.pk,
            "chunk_url": reverse("storage:transfer_chunk", args=[op.pk]),
            "cancel_url": reverse("storage:transfer_cancel", args=[op.pk]),
            "chunk_size": CHUNK_SIZE,
            "size": op.params["size"],
        },
        status=201,
    )


def _transfer(pk, kind):
    return get_object_or_404(Operation.objects.filter(kind__in=kind), pk=pk)


@needs("storage.manage", per_object=True)
@require_POST
def transfer_chunk(request, pk):
    """One piece of an upload: the raw bytes as the body, ?offset= where they start, &last=1 on
    the final one."""
    op = _transfer(pk, ["volume.upload"])
    try:
        answer = transfer.upload_chunk(
            actor=request.user,
            op=op,
            offset=request.GET.get("offset"),
            data=request.body,
            last=request.GET.get("last") == "1",
        )
    except transfer.TransferError as exc:
        return JsonResponse({"error": str(exc), **exc.extra}, status=exc.status)
    return JsonResponse(answer)


@needs("storage.manage", per_object=True)
@require_POST
def transfer_cancel(request, pk):
    op = transfer.transfer_cancel(actor=request.user, op=_transfer(pk, ["volume.upload", "volume.download"]))
    return JsonResponse({"operation": op.pk, "status": op.status})


@needs("storage.manage", per_object=True)
@require_POST
def volume_download(request, pk):
    """Queue the download and send the browser to the stream, which starts as the worker does."""
    volume = _volume(request, pk)
    try:
        op = transfer.volume_download(actor=request.user, volume=volume)
    except services.VolumeError as exc:
        return _message(request, volume.pool, f"{volume.name}: {exc}", error=True)
    return redirect("storage:transfer_stream", pk=op.pk)


@needs("storage.manage", per_object=True)
@require_GET
def transfer_stream(request, pk):
    """The bytes of a download, relayed from Redis as the worker pushes them (an async iterator,
    so under ASGI no thread waits for them)."""
    op = _transfer(pk, ["volume.download"])
    try:
        meta = transfer.download_begin(actor=request.user, op=op)
    except transfer.TransferError as exc:
        return HttpResponse(str(exc), status=exc.status, content_type="text/plain")
    response = StreamingHttpResponse(
        Pipe(op.pk).relay(stall=transfer.stall_seconds()), content_type="application/octet-stream"
    )
    response["Content-Length"] = str(meta["length"])
    response["Content-Disposition"] = content_disposition_header(True, meta["filename"])
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("<int:pk>/volumes/new/", volume_create, name="volume_create"),
    path("<int:pk>/volumes/upload/", volume_upload, name="volume_upload"),
    path("volumes/<int:pk>/download/", volume_download, name="volume_download"),
    path("volumes/<int:pk>/<slug:action>/", volume_action, name="volume_action"),
    path("transfers/<int:pk>/", transfer_stream, name="transfer_stream"),
    path("transfers/<int:pk>/chunk/", transfer_chunk, name="transfer_chunk"),
    path("transfers/<int:pk>/cancel/", transfer_cancel, name="transfer_cancel"),
]
