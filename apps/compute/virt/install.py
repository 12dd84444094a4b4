"""Install from a tree (virt-install --location): find the kernel and initrd under the URL, fetch
them over HTTP(S), and put them in volumes on one of the host's pools through libvirt's stream API.

Where the images live: the osinfo entry's `<tree>` paths for that OS and arch when it has them
(Debian's netboot layout), else the tree's own `.treeinfo` ([images-ARCH] kernel= / initrd=, the
Red Hat and SUSE trees), else the layouts virt-install knows by heart. The volumes go through the
libvirt connection, so a remote host gets them without the worker touching its file system.
"""

import configparser
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from apps.core.errors import VirtError

TIMEOUT = 30  # seconds for each HTTP request
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
    return urllib.parse.urljoin(base.rstrip("/") + "/", path.lstrip("/"))


def _open(url, method="GET"):
    request = urllib.request.Request(url, method=method, headers={"User-Agent": "kvmweb"})
    return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - http(s) only, checked by the caller


def _exists(url):
    try:
        with _open(url, "HEAD") as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _treeinfo(url, arch):
    """(kernel, initrd) from the tree's .treeinfo, or None."""
    for name in (".treeinfo", "treeinfo"):
        try:
            with _open(_join(url, name)) as response:
                text = response.read(256 * 1024).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError):
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


def locate(url, *, arch="x86_64", kernel="", initrd="", treeinfo=False) -> TreeImages:
    """Where the tree at `url` keeps its kernel and initrd. `kernel`/`initrd` are the osinfo
    entry's paths (relative to the URL) when it has them."""
    if kernel and initrd:
        k, i = _join(url, kernel), _join(url, initrd)
        if _exists(k) and _exists(i):
            return TreeImages(k, i)
    found = _treeinfo(url, arch)
    if found:
        return TreeImages(_join(url, found[0]), _join(url, found[1]), f"inst.repo={url}" if treeinfo else "")
    for k, i, extra in COMMON_LAYOUTS.get(arch, []):
        if _exists(_join(url, k)) and _exists(_join(url, i)):
            return TreeImages(_join(url, k), _join(url, i), extra.format(url=url) if extra else "")
    raise VirtError(
        f"No kernel and initrd found under {url} for {arch}: neither the OS's osinfo paths, a .treeinfo, "
        "nor a known layout (images/pxeboot, install.amd, boot/{arch}/loader, casper) answered."
    )


def fetch(url, out, *, progress=None):
    """Download `url` into the open binary file `out`; returns the number of bytes."""
    try:
        with _open(url) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(CHUNK):
                done += len(chunk)
                if done > MAX_IMAGE_BYTES:
                    raise VirtError(f"{url} is larger than {MAX_IMAGE_BYTES >> 20} MiB; that is no kernel or initrd.")
                out.write(chunk)
                if progress and total:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise VirtError(f"Cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    if done == 0:
        raise VirtError(f"{url} is empty.")
    out.flush()
    return done
