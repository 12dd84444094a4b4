"""What the rules share: who asks, for which host, with which rights; how a message names an
element; which values in an element are host paths; and the canonical form that tells an
element the user left alone from one they added or changed."""

import copy

from lxml import etree

from apps.authz.rights import may
from apps.network.access import may_use as may_use_network
from apps.network.access import network_named
from apps.storage.access import may_use
from apps.storage.models import StorageVolume

# Attributes that name a host path whatever their value looks like (a relative path is one too:
# QEMU resolves it against its working directory). Any other attribute or text that starts with
# "/" is a host path as well. Guest-side names (<target dev='vda'>) are not, so <target> is skipped.
PATH_ATTRS = frozenset(
    {"file", "path", "dir", "socket", "template", "logFile", "rendernode", "evdev", "tap", "vhost", "database"}
)
# The words each right takes in a message: "... needs the right to manage host demo."
RIGHT_WORDS = {
    "host.manage": "manage host",
    "network.manage": "manage the networks of host",
    "network.view": "use the networks of host",
}
# libvirt's own namespaces for one hypervisor (<qemu:commandline>, <qemu:capabilities>, the
# test, Xen, LXC, bhyve ones): arguments straight to the hypervisor, which no right makes safe.
DRIVER_NS = "http://libvirt.org/schemas/domain/"
# Volumes whose bytes the guest writes freely: read as a format with a header, they would follow
# whatever backing file the guest wrote into them.
HEADERLESS = ("raw", "iso")


class Judge:
    """One policy question: `found` collects the messages, in the order the XML names things;
    `needed` the right each refused thing needed ("" for what no right allows), for the audit."""

    def __init__(self, user, host, vm_name):
        self.user, self.host, self.vm_name = user, host, vm_name
        self.found = []
        self.needed = {}
        self._rights = {}

    def may(self, perm, obj=None):
        obj = self.host if obj is None else obj
        key = (perm, type(obj).__name__, obj.pk)
        if key not in self._rights:
            self._rights[key] = may(self.user, perm, obj)
        return self._rights[key]

    @property
    def manages_host(self):
        return self.may("host.manage")

    def refuse(self, message, permission=""):
        if message not in self.found:
            self.found.append(message)
            self.needed[message] = permission

    def need(self, perm, label):
        """True when the user holds `perm` on the host; else a message naming the element."""
        if self.may(perm):
            return True
        self.refuse(f"{label} needs the right to {RIGHT_WORDS[perm]} {self.host.name}.", perm)
        return False

    def network(self, label, name):
        """A NIC on a libvirt network: one kvmweb knows on this host, that the user may use (one
        not in the inventory yet only for who manages the host's networks: libvirt judges it)."""
        net = network_named(self.host, name or "")
        if net is None and self.may("network.manage"):
            return
        if net is None or not may_use_network(self.user, net):
            self.refuse(f"{label}: {name} is not a network you may use on {self.host.name}.", "network.use")

    # -- pool volumes ---------------------------------------------------------------------------

    def _volumes(self, **where):
        return StorageVolume.objects.select_related("pool").filter(pool__host=self.host, pool__present=True, **where)

    def _usable(self, volume, readonly):
        """storage.use (or storage.manage) on its pool; a read-only image of the ISO library needs
        only to be seen (storage.view), as the CD-ROM menu offers it."""
        pool = volume.pool
        if may_use(self.user, pool):
            return True
        return readonly and pool.is_iso_library and self.may("storage.view", pool)

    def volume(self, label, *, path=None, pool=None, name=None, readonly=False, fmt=None):
        """A disk on a pool volume: kvmweb knows it on this host, in a pool the user may use, it is
        read in a format that cannot name other files unless it has one, and its own backing file
        (if any) is such a volume too."""
        found = self._volumes(path=path) if path is not None else self._volumes(pool__name=pool, name=name)
        what = path if path is not None else f"{pool}/{name}"
        volume = next((v for v in found if self._usable(v, readonly)), None)
        if volume is None:
            self.refuse(f"{label}: {what} is not a volume of a pool you may use on {self.host.name}.", "storage.use")
            return
        if fmt and fmt != "raw" and volume.format in HEADERLESS:
            self.refuse(
                f"{label}: {what} is a {volume.format} volume; read as {fmt} it would open any file its "
                "contents name as a backing file."
            )  # no right makes that safe
        if volume.backing_path and not any(self._usable(v, False) for v in self._volumes(path=volume.backing_path)):
            self.refuse(
                f"{label}: the backing file of {what}, {volume.backing_path}, is not a volume of a pool you may use "
                f"on {self.host.name}.",
                "storage.use",
            )


def passthrough(el):
    """An element in one of libvirt's per-driver namespaces."""
    return isinstance(el.tag, str) and (etree.QName(el).namespace or "").startswith(DRIVER_NS)


def label(el):
    """How a message names an element: <disk type='network'>, <memory model='nvdimm'>."""
    name = etree.QName(el).localname
    for attr in ("type", "model"):
        if el.get(attr):
            return f"<{name} {attr}='{el.get(attr)}'>"
    return f"<{name}>"


def host_paths(el):
    """Every host path an element names (attributes and text, below it too), in document order."""
    found = []
    for node in el.iter():
        if not isinstance(node.tag, str) or node.tag == "target":
            continue
        for attr, value in node.attrib.items():
            value = value.strip()
            if value and (attr in PATH_ATTRS or value.startswith("/")):
                found.append(value)
        text = (node.text or "").strip()
        if text.startswith("/"):
            found.append(text)
    return found


def sweep(judge, el, accepted=()):
    """Host paths in an element the rule for it did not vouch for: only whoever manages the host
    may name them (a ROM file, a log file, a socket, a render node, …)."""
    if judge.manages_host:
        return
    for path in host_paths(el):
        if path not in accepted:
            judge.refuse(
                f"{label(el)} names the host path {path}: that needs the right to manage host {judge.host.name}.",
                "host.manage",
            )


def canonical(el, drop=()):
    """An element's canonical text, without comments, layout whitespace and the direct children
    named in `drop`: two spellings of the same element compare equal."""
    el = copy.deepcopy(el)
    el.tail = None
    for child in list(el):
        if not isinstance(child.tag, str) or child.tag in drop:
            el.remove(child)
    for node in list(el.iter()):
        if not isinstance(node.tag, str):
            node.getparent().remove(node)
            continue
        if node.text is not None and not node.text.strip():
            node.text = None
        if node is not el and node.tail is not None and not node.tail.strip():
            node.tail = None
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)
