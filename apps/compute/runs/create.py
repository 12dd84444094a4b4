"""vm.create and vm.define on the worker (services/create.py queues them).

vm.create: the new disk is created on its pool (with progress), a tree install's kernel and initrd
are fetched and uploaded into volumes, the install document is defined (VALIDATE), started when
asked, and then the final document (boot from disk) is defined in its place, so the next boot is a
normal one — virt-install's two phases. Whatever fails, everything this operation made is removed
again (the domain undefined, its volumes deleted), and the error is libvirt's (or the download's).
A cancel is honoured the same way until the domain is defined: during a preallocation, between
the pieces of a download (the bar is the bytes of kernel and initrd together), between steps.
"""

import tempfile

from django.conf import settings

from apps.accounts.models import Team
from apps.compute import xmlpolicy
from apps.compute.runs.disks import refuse_if_used_elsewhere, refuse_new_disks_used_elsewhere, require_volume
from apps.compute.runs.xmledit import forget_xml
from apps.compute.services import create_xml
from apps.compute.services.create import NewVM
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, install, xmledit
from apps.core.errors import OperationError
from apps.core.fetch import SafeFetcher, parse_networks
from apps.core.units import human_bytes
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.operations.runners import require, runner
from apps.operations.services import operation_check_cancel, operation_progress
from apps.operations.steps import operation_step
from apps.storage.models import StoragePool
from apps.storage.runs.allocation import create_volume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import streams
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume


def _adopt(op, conn, host, uuid, *, disk_bytes=0):
    """The new VM's inventory row now (not when the monitor gets to it), with its team."""
    vm = vm_inventory_apply(host=host, uuid=uuid, info=domains.domain_info(conn, uuid))
    p = op.params
    vm.team = Team.objects.filter(pk=p.get("team_id")).first() if p.get("team_id") else None
    vm.disk_bytes = disk_bytes
    vm.os_variant = p.get("os_id", "") or vm.os_variant
    vm.save(update_fields=["team", "disk_bytes", "os_variant"])
    op.target_id = str(vm.pk)
    op.save(update_fields=["target_id"])
    return vm


class _Made:
    """What this operation created, so a failure can take it all back."""

    def __init__(self):
        self.volumes, self.domain = [], None

    def undo(self, conn):
        if self.domain:
            try:
                domains.undefine(conn, self.domain)
            except OperationError:
                pass
        for pool_uuid, name in self.volumes:
            volume_virt.delete_quietly(conn, pool_uuid, name)


def _pool(p, key="pool_id"):
    return StoragePool.objects.select_related("host").get(pk=p[key])


def _new_disk(op, conn, made, span):
    d = op.params["disk"]
    if volume_virt.volume_info(conn, d["pool_uuid"], d["name"]) is not None:
        raise OperationError(f"The pool already has a volume named {d['name']}.")
    kind = "preallocated" if d["preallocate"] else "sparse"
    operation_step(op, f"Creating the {kind} disk {d['name']} ({human_bytes(d['capacity'])}).")
    # Leaves nothing behind when it fails or is cancelled; from here on it is the undo's.
    info = create_volume(
        op,
        conn,
        _pool(d),
        name=d["name"],
        capacity=d["capacity"],
        format=d["format"],
        preallocate=d["preallocate"],
        span=span,
    )
    made.volumes.append((d["pool_uuid"], d["name"]))
    return info.path


def _tree_images(op, conn, made, span):
    """Find, fetch and upload the tree's kernel and initrd next to the new disk."""
    p = op.params
    entry = create_xml.os_entry(p.get("os_id"))
    tree = entry.tree(p.get("arch", "x86_64")) if entry else None
    operation_progress(op, span[0], f"looking for the kernel and initrd under {p['tree']['url']}")
    fetcher = _fetcher()
    images = install.locate(
        p["tree"]["url"],
        fetcher=fetcher,
        arch=p.get("arch", "x86_64"),
        kernel=tree.kernel if tree else "",
        initrd=tree.initrd if tree else "",
        treeinfo=bool(tree and tree.treeinfo),
    )
    urls = (("kernel", images.kernel_url), ("initrd", images.initrd_url))
    sizes = [install.size(url, fetcher=fetcher) for _key, url in urls]
    total = sum(sizes) if all(sizes) else 0  # one bar for both, when the server says their sizes
    operation_step(op, f"Found the kernel at {images.kernel_url} and the initrd at {images.initrd_url}.")
    pool_uuid = p["disk"]["pool_uuid"]
    paths, before = {}, 0
    for key, url in urls:
        name = f"{p['name']}.{'vmlinuz' if key == 'kernel' else 'initrd'}"
        if volume_virt.volume_info(conn, pool_uuid, name) is not None:
            raise OperationError(f"The pool already has a volume named {name}.")
        made.volumes.append((pool_uuid, name))
        progress = _DownloadProgress(op, key, before, total, span)
        paths[key] = _upload_image(conn, op, pool_uuid, name, url, progress=progress)
        before += progress.done
    cmdline = " ".join(a for a in (images.extra_args, p.get("cmdline", "")) if a)
    return paths, cmdline


class _DownloadProgress:
    """Told the bytes so far after each piece of a download: a cancel stops it there; the bar
    (the bytes of both images, when the server gave their sizes) moves once per percent."""

    def __init__(self, op, key, before, total, span):
        self.op, self.key, self.before, self.total, self.span = op, key, before, total, span
        self.done, self.shown = 0, None

    def __call__(self, done):
        self.done = done
        operation_check_cancel(self.op, f" while the {self.key} was downloaded ({human_bytes(done)})")
        if not self.total:
            operation_progress(self.op, None, f"downloading the {self.key} ({human_bytes(done)})")
            return
        low, high = self.span
        so_far = self.before + done
        percent = int(low + (high - low) * min(1.0, so_far / self.total))
        if percent != self.shown:
            self.shown = percent
            text = f"downloading the {self.key} ({human_bytes(so_far)} of {human_bytes(self.total)})"
            operation_progress(self.op, percent, text)


def _host(op):
    return Host.objects.filter(pk=op.host_id).first()


def _create_policy(op, host):
    """The rights on the pools the plan names, again, as services/create.py checked them: a new
    disk's pool (storage.manage), the ISO (from the ISO library) and an imported disk (storage.use)."""
    p = op.params
    if p.get("disk"):
        require(op, "storage.manage", _pool(p["disk"]))
    for key in ("iso", "import"):
        path = (p.get(key) or {}).get("path")
        if path:
            require_volume(op, host, path, iso=key == "iso")


def _define_policy(op, host):
    """What the user may put in hand-written XML, again (apps/compute/xmlpolicy.py)."""
    root = xmledit.parse_saved(op.params["xml"])
    if root is None:
        raise OperationError("The XML is not a domain definition.")
    found = []
    if op.actor is not None:
        target = NewVM(host, op.params.get("name", ""))
        found = xmlpolicy.refused(root, user=op.actor, host=host, target=target, attempt="vm.define")
    if found:
        raise OperationError(" ".join(found))
    with connection.connected(host.uri) as conn:
        refuse_new_disks_used_elsewhere(conn, None, root)


@runner("vm.create", permission="vm.create", target=_host, policy=_create_policy, cancellable=True)
def create(op, host):
    p = dict(op.params)
    made = _Made()
    with connection.connected(host.uri) as conn:
        if domains.name_taken(conn, p["name"]):
            raise OperationError(f"A domain named {p['name']} already exists on {host.name}.")
        try:
            message = _create(op, conn, host, p, made)
        except BaseException:
            made.undo(conn)
            _refresh_pools(conn, host, p)
            raise
        _refresh_pools(conn, host, p)
    return message


def _create(op, conn, host, p, made):
    if p.get("import"):
        refuse_if_used_elsewhere(conn, None, [p["import"]["path"]])
    paths = {}
    tree = p["source"] == "tree"
    if p.get("disk"):
        paths["disk_path"] = _new_disk(op, conn, made, (1, 20 if tree else 88))
    images = {}
    if tree:
        operation_check_cancel(op, " before the install tree was read")
        images, p["cmdline"] = _tree_images(op, conn, made, (20, 88))
    # The last point a cancel is honoured: past it the domain exists and may run an installer.
    operation_check_cancel(op, " before the domain was defined")
    operation_progress(op, 90, "defining the domain")
    made.domain = domains.define(conn, create_xml.install_xml(p, **paths, **images), validate=True)
    started = False
    if p["start"]:
        domains.power(conn, made.domain, "start")
        started = True
        if p["source"] in ("iso", "tree", "pxe"):
            domains.define(conn, create_xml.final_xml(p, **paths), validate=True)
        if images:  # QEMU read them at start; like virt-install, do not keep them around
            for key in ("kernel", "initrd"):
                volume_virt.delete_quietly(
                    conn, p["disk"]["pool_uuid"], f"{p['name']}.{'vmlinuz' if key == 'kernel' else 'initrd'}"
                )
    uuid = made.domain
    _adopt(op, conn, host, uuid, disk_bytes=p.get("disk_bytes", 0))
    made.domain = None  # from here on it is the user's VM: nothing more to take back
    what = {
        "iso": "from an ISO",
        "tree": "from an install tree",
        "pxe": "for a network boot",
        "import": "on an imported disk",
    }
    return f"created {p['name']} {what[p['source']]}" + (", started" if started else "")


def _refresh_pools(conn, host, p):
    for key in ("disk",):
        if p.get(key):
            try:
                pool_refresh_inventory(conn, host, p[key]["pool_uuid"])
            except OperationError:
                pass


# The submitted text (with any graphics password) leaves the row once the work is over, however
# it ends; the masked copy stays for the operations panel.
@runner("vm.define", permission="vm.create", target=_host, policy=_define_policy, cleanup=forget_xml)
def define(op, host):
    try:
        return _define(op, host)
    finally:
        forget_xml(op)


def _define(op, host):
    p = op.params
    with connection.connected(host.uri) as conn:
        if domains.name_taken(conn, p["name"]):
            raise OperationError(f"A domain named {p['name']} already exists on {host.name}.")
        uuid = domains.define(conn, p["xml"], validate=True)
        _adopt(op, conn, host, uuid)
    return f"defined {p['name']} from XML"


def _fetcher():
    """The tree URL is the user's: fetched only from public addresses, or networks an
    administrator allowed (KVMWEB_INSTALL_TREE_ALLOW)."""
    return SafeFetcher(allow=parse_networks(settings.INSTALL_TREE_ALLOW))


def _upload_image(conn, op, pool_uuid, name, url, *, progress=None):
    """Fetch one image and store it as a raw volume `name` in the pool; returns the volume's path.
    A failed or cancelled transfer leaves no volume behind (the temporary file goes with it)."""
    with tempfile.TemporaryFile() as tmp:
        size = install.fetch(url, tmp, fetcher=_fetcher(), progress=progress)
        info = volume_virt.create(conn, pool_uuid, Volume(name=name, capacity=size, format="raw").to_xml())
        tmp.seek(0)

        def pieces():
            while data := tmp.read(install.CHUNK):
                operation_check_cancel(op, f" while {name} was stored")
                yield data

        try:
            streams.upload(conn, pool_uuid, name, size, pieces())
        except BaseException:
            volume_virt.delete_quietly(conn, pool_uuid, name)
            raise
    return info.path
