"""An install tree is a user's URL fetched by the worker: it must never read the host's files or
reach inner addresses for that user (issue: the worker is not a proxy)."""

import functools
import http.server
import io
import socket
import threading

import pytest

from apps.compute.virt import install
from apps.core.errors import OperationError
from apps.core.fetch import FetchRefused, SafeFetcher, parse_networks

LOOPBACK = parse_networks("127.0.0.0/8")


class _Handler(http.server.SimpleHTTPRequestHandler):
    redirects = {}

    def do_GET(self):
        if self.path in self.redirects:
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path])
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self):
        if self.path in self.redirects:
            return self.do_GET()
        super().do_HEAD()

    def log_message(self, *args):
        pass


@pytest.fixture
def tree(tmp_path):
    """A local tree server; returns (base URL, directory, redirect table)."""
    (tmp_path / "tree").mkdir()
    redirects = {}
    handler = functools.partial(type("H", (_Handler,), {"redirects": redirects}), directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tree/", tmp_path / "tree", redirects
    server.shutdown()
    server.server_close()


def _treeinfo(directory, kernel, initrd="images/initrd.img"):
    (directory / ".treeinfo").write_text(f"[images-x86_64]\nkernel = {kernel}\ninitrd = {initrd}\n")


def test_a_treeinfo_naming_a_host_file_is_refused_and_nothing_is_read(tree):
    url, directory, _ = tree
    _treeinfo(directory, "file:///etc/passwd")
    with pytest.raises(OperationError, match="outside"):
        install.locate(url, fetcher=SafeFetcher(allow=LOOPBACK))


def test_a_treeinfo_naming_another_host_is_refused(tree):
    url, directory, _ = tree
    _treeinfo(directory, "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(OperationError, match="outside"):
        install.locate(url, fetcher=SafeFetcher(allow=LOOPBACK))
    _treeinfo(directory, "//10.0.0.1/vmlinuz")
    with pytest.raises(OperationError, match="outside"):
        install.locate(url, fetcher=SafeFetcher(allow=LOOPBACK))


def test_a_tree_on_loopback_is_refused_unless_an_administrator_allows_it(tree):
    url, directory, _ = tree
    (directory / "images").mkdir()
    (directory / "images" / "vmlinuz").write_bytes(b"kernel")
    (directory / "images" / "initrd.img").write_bytes(b"initrd")
    _treeinfo(directory, "images/vmlinuz")
    with pytest.raises(FetchRefused, match="KVMWEB_INSTALL_TREE_ALLOW"):
        install.locate(url, fetcher=SafeFetcher())
    found = install.locate(url, fetcher=SafeFetcher(allow=LOOPBACK))
    assert found.kernel_url == url + "images/vmlinuz"
    out = io.BytesIO()
    assert install.fetch(found.kernel_url, out, fetcher=SafeFetcher(allow=LOOPBACK)) == 6
    assert out.getvalue() == b"kernel"


def test_a_redirect_is_checked_again(tree):
    url, directory, redirects = tree
    (directory / "images").mkdir()
    redirects["/tree/images/vmlinuz"] = "http://metadata.example/latest/"
    redirects["/tree/images/initrd.img"] = "file:///etc/shadow"

    def resolve(host, port, type=0):
        if host == "metadata.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return socket.getaddrinfo(host, port, type=type)

    fetcher = SafeFetcher(allow=LOOPBACK, resolve=resolve)
    with pytest.raises(FetchRefused, match="169.254.169.254"):
        install.fetch(url + "images/vmlinuz", io.BytesIO(), fetcher=fetcher)
    with pytest.raises(FetchRefused, match="only http"):
        install.fetch(url + "images/initrd.img", io.BytesIO(), fetcher=fetcher)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://mirror.example/debian/", "gopher://x/", "http://user:pw@mirror.example/"],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(FetchRefused):
        SafeFetcher().check(url)


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "192.168.0.1", "172.16.0.1", "100.64.0.1", "::1", "fe80::1", "0.0.0.0"]
)
def test_inner_addresses_are_refused(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def resolve(host, port, type=0):
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    with pytest.raises(FetchRefused, match="this side of the network"):
        SafeFetcher(resolve=resolve).check("http://mirror.example/debian/")


def test_a_public_address_is_allowed_without_a_list():
    def resolve(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("151.101.2.132", port))]

    target = SafeFetcher(resolve=resolve).check("https://deb.example/debian/?x=1")
    assert (target.address, target.port, target.path) == ("151.101.2.132", 443, "/debian/?x=1")


def test_an_image_over_the_cap_is_refused(tree, monkeypatch):
    url, directory, _ = tree
    (directory / "big").write_bytes(b"x" * 4096)
    monkeypatch.setattr(install, "MAX_IMAGE_BYTES", 1024)
    with pytest.raises(OperationError, match="larger than"):
        install.fetch(url + "big", io.BytesIO(), fetcher=SafeFetcher(allow=LOOPBACK))
