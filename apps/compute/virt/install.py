"""Install from a tree (virt-install --location): find the kernel and initrd under the URL, fetch
them over HTTP(S), and put them in volumes on one of the host's pools through libvirt's stream API.

Where the images live: the osinfo entry's `<tree>` paths for that OS and arch when it has them
(Debian's netboot layout), else the tree's own `.treeinfo` ([images-ARCH] kernel= / initrd=, the
Red Hat and SUSE trees), else the layouts virt-install knows by heart. The volumes go through the
libvirt connection, so a remote host gets them without the worker touching its file system.
"""

import configparser
import urllib.parse
from dataclasses import dataclass

from apps.core.errors import OperationError, VirtError
from apps.core.fetch import FetchRefused, same_origin

MAX_IMAGE_BYTES = 1 << 30  # a kernel or initrd larger than 1 GiB is not one
CHUNK = 1 << 20

# (kernel, initrd, extra kernel argument or "", where {url} is the tree's URL) per known layout.
COMMON_LAYOUTS = {
    "x86_64": [
        ("images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", "inst.repo={url}"),  # Fedora, RHEL, CentOS
        ("install.amd/vmlinuz", "install.amd/initrd.gz", ""),  # Debian media trees
        (
            "current/images/netboot/debian-installer/amd64/linux",
            "current/images/netboot/debian-installer/amd64/initrd.gz",
            "",
        ),
        ("boot/x86_64/loader/linux", "boot/x86_64/loader/initrd", "install={url}"),  # openSUSE, SLES
        ("casper/vmlinuz", "casper/initrd", ""),  # Ubuntu live trees
        ("isolinux/vmlinuz", "isolinux/initrd.img", ""),
    ],
}


@dataclass(frozen=True)
class TreeImages:
    kernel_url: str
    initrd_url: str
    extra_args: str = ""  # what the installer needs to find the rest of the tree


def _join(base, path):
    """A path the tree names, under the tree: an absolute URL, or one that leaves the tree's
    scheme, host and port (`file:///etc/passwd`, `//inner-host/`), is refused."""
    if path.startswith("/") and not path.startswith("//"):
        path = path.lstrip("/")  # .treeinfo and osinfo paths are relative to the tree
    url = urllib.parse.urljoin(base.rstrip("/") + "/", path)
    if not same_origin(base, url):
        raise VirtError(f"The tree names {path!r}, which is outside {base}; only files under the tree are fetched.")
    return url


def _treeinfo(fetcher, url, arch):
    """(kernel, initrd) from the tree's .treeinfo, or None."""
    for name in (".treeinfo", "treeinfo"):
        try:
            text = fetcher.read(_join(url, name), limit=256 * 1024).decode("utf-8", "replace")
        except FetchRefused:
            raise
        except OperationError:
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            continue
        section = f"images-{arch}"
        if parser.has_option(section, "kernel") and parser.has_option(section, "initrd"):
            return parser.get(section, "kernel"), parser.get(section, "initrd")
    return None


def locate(url, *, fetcher, arch="x86_64", kernel="", initrd="", treeinfo=False) -> TreeImages:
    """Where the tree at `url` keeps its kernel and initrd. `kernel`/`initrd` are the osinfo
    entry's paths (relative to the URL) when it has them. `fetcher` is an apps.core.fetch
    SafeFetcher: the URL is a user's, fetched by the worker."""
    fetcher.check(url)  # refused at once, with the reason, rather than as "nothing found"
    if kernel and initrd:
        k, i = _join(url, kernel), _join(url, initrd)
        if fetcher.exists(k) and fetcher.exists(i):
            return TreeImages(k, i)
    found = _treeinfo(fetcher, url, arch)
    if found:
        return TreeImages(_join(url, found[0]), _join(url, found[1]), f"inst.repo={url}" if treeinfo else "")
    for k, i, extra in COMMON_LAYOUTS.get(arch, []):
        if fetcher.exists(_join(url, k)) and fetcher.exists(_join(url, i)):
            return TreeImages(_join(url, k), _join(url, i), extra.format(url=url) if extra else "")
    raise VirtError(
        f"No kernel and initrd found under {url} for {arch}: neither the OS's osinfo paths, a .treeinfo, "
        "nor a known layout (images/pxeboot, install.amd, boot/{arch}/loader, casper) answered."
    )


def size(url, *, fetcher) -> int:
    """The image's size as the server announces it (a HEAD's Content-Length), or 0 when it does
    not: the two images' sizes make one progress bar for both downloads."""
    try:
        _, response = fetcher.open(url, "HEAD")
    except FetchRefused:
        raise
    except OperationError:
        return 0
    try:
        return max(0, int(response.getheader("Content-Length") or 0))
    except ValueError:
        return 0
    finally:
        response.kvm_conn.close()


class _Counted:
    """The download's file, telling `progress(bytes so far)` after each piece; whatever progress
    raises (a cancel) stops the download there."""

    def __init__(self, out, progress):
        self.out, self.progress, self.done = out, progress, 0

    def write(self, data):
        self.out.write(data)
        self.done += len(data)
        if self.progress is not None:
            self.progress(self.done)


def fetch(url, out, *, fetcher, progress=None):
    """Download `url` into the open binary file `out`; returns the number of bytes.
    `progress(bytes so far)` is called after each piece of up to CHUNK bytes."""
    done = fetcher.copy(url, _Counted(out, progress), limit=MAX_IMAGE_BYTES, chunk=CHUNK)
    if done == 0:
        raise VirtError(f"{url} is empty.")
    out.flush()
    return done
