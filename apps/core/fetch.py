"""Fetching a URL a user gave, on a worker, without making the worker a proxy for that user.

A worker can read the host's files and reach addresses the user cannot (loopback services, the
management network, a cloud's metadata address). So a user-given URL is fetched only:

- over http or https (no file://, ftp://, data: …);
- from a host whose every resolved address is public, unless an administrator listed its network
  (KVMWEB_INSTALL_TREE_ALLOW), and the connection goes to the address that was checked (a second
  DNS answer cannot swap in an inner one);
- following at most a few redirects, each checked again as if the user had given it;
- up to a size cap.

No dependency on Django: the caller passes the allowed networks.
"""

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from apps.core.errors import OperationError

MAX_REDIRECTS = 5


class FetchRefused(OperationError):
    """The URL, or where it leads, is not one the worker may fetch for a user."""


def parse_networks(text):
    """'127.0.0.1/32, 10.0.0.0/8' → ip networks (a bare address is its own /32 or /128)."""
    networks = []
    for item in (text or "").replace(";", ",").split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _public(address):
    """Globally routable: not private, loopback, link-local (the metadata address), shared
    (100.64/10), reserved, multicast or unspecified; an IPv4-mapped IPv6 address as its IPv4."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


class SafeFetcher:
    def __init__(self, *, allow=(), timeout=30, resolve=socket.getaddrinfo):
        self.allow = tuple(allow)
        self.timeout = timeout
        self._resolve = resolve

    def check(self, url):
        """The Target for `url`, or FetchRefused saying why not."""
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchRefused(f"{url} is not a valid URL.") from None
        if parts.scheme not in ("http", "https"):
            raise FetchRefused(f"{url}: only http:// and https:// URLs are fetched.")
        if not parts.hostname:
            raise FetchRefused(f"{url} names no host.")
        if parts.username or parts.password:
            raise FetchRefused(f"{url}: user names and passwords in URLs are not used.")
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            infos = self._resolve(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise FetchRefused(f"Cannot resolve {parts.hostname}: {exc}") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        if not addresses:
            raise FetchRefused(f"{parts.hostname} has no address.")
        for address in addresses:
            if not _public(address) and not any(address in net for net in self.allow):
                raise FetchRefused(
                    f"{parts.hostname} resolves to {address}, an address on this side of the network; "
                    "an administrator can allow its network with KVMWEB_INSTALL_TREE_ALLOW."
                )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))

    def _connect(self, target):
        if target.scheme == "https":
            conn = http.client.HTTPSConnection(
                target.address, target.port, timeout=self.timeout, context=ssl.create_default_context()
            )
            # Certificate and SNI are for the name, the TCP connection for the checked address.
            sock = socket.create_connection((target.address, target.port), timeout=self.timeout)
            conn.sock = conn._context.wrap_socket(sock, server_hostname=target.host)
        else:
            conn = http.client.HTTPConnection(target.address, target.port, timeout=self.timeout)
        return conn

    def open(self, url, method="GET"):
        """(final URL, response) after checked redirects; the caller reads and closes the response."""
        for _ in range(MAX_REDIRECTS + 1):
            target = self.check(url)
            conn = self._connect(target)
            host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
            try:
                conn.request(method, target.path, headers={"Host": host_header, "User-Agent": "kvmweb"})
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise OperationError(f"Cannot fetch {url}: {exc}") from None
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                location = urllib.parse.urljoin(url, response.getheader("Location"))
                conn.close()
                url = location
                continue
            if not 200 <= response.status < 300:
                conn.close()
                raise OperationError(f"Cannot fetch {url}: HTTP {response.status} {response.reason}")
            response.kvm_conn = conn
            return url, response
        raise OperationError(f"{url}: more than {MAX_REDIRECTS} redirects.")

    def exists(self, url):
        try:
            _, response = self.open(url, "HEAD")
        except FetchRefused:
            raise
        except OperationError:
            return False
        response.kvm_conn.close()
        return True

    def read(self, url, *, limit):
        """The body, refused past `limit` bytes."""
        _, response = self.open(url)
        try:
            data = response.read(limit + 1)
        finally:
            response.kvm_conn.close()
        if len(data) > limit:
            raise OperationError(f"{url} is larger than {limit} bytes.")
        return data

    def copy(self, url, out, *, limit, chunk=1 << 20, progress=None):
        """Stream the body into the open binary file `out`; returns the number of bytes."""
        _, response = self.open(url)
        try:
            total = int(response.getheader("Content-Length") or 0)
            if total > limit:
                raise OperationError(f"{url} is larger than {limit >> 20} MiB.")
            done = 0
            while data := response.read(chunk):
                done += len(data)
                if done > limit:
                    raise OperationError(f"{url} is larger than {limit >> 20} MiB.")
                out.write(data)
                if progress and total:
                    progress(done, total)
        except (OSError, http.client.HTTPException) as exc:
            raise OperationError(f"Cannot download {url}: {exc}") from None
        finally:
            response.kvm_conn.close()
        return done


def same_origin(base, url):
    """`url` keeps `base`'s scheme, host and port: paths a tree names must stay inside it."""
    a, b = urllib.parse.urlsplit(base), urllib.parse.urlsplit(url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
