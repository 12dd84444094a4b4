"""libvirt connection URIs: built from the host form's fields, taken apart again for editing, and
checked before anything tries to connect.

Only the drivers kvmweb manages are accepted (QEMU, and the test driver where an administrator
allows it: demos and tests), over transports that do not run an arbitrary local command (`ext` and
the `command=` parameter would let a form field start a program on the worker). Parameters are
allowed by name: those that turn off a check protecting the connection (`no_verify=1`,
`known_hosts_verify=ignore`), point the connection at another socket or program (`socket`,
`netcat`, `command`), or that libvirt may add later, are refused.

A URI is kept in one canonical spelling (lower-case scheme and host, default ports dropped, the
parameters in order), so two spellings of one hypervisor cannot be registered twice.
"""

from urllib.parse import parse_qsl, quote, urlencode, urlsplit

DRIVERS = ("qemu", "test")
TRANSPORTS = ("", "unix", "ssh", "libssh", "libssh2", "tls", "tcp")
QEMU_PATHS = ("/system", "/session")
REFUSED_PARAMS = {
    "no_verify": "no_verify turns host key (or certificate) checking off; add the host's key to the "
    "worker's ~/.ssh/known_hosts (ssh-keyscan) instead.",
    "command": "the command parameter runs a program on the worker; it is not accepted.",
    "netcat": "the netcat parameter runs a program on the hypervisor; it is not accepted.",
    "socket": "the socket parameter points the connection at another local socket; it is not accepted.",
}
# name -> the values allowed (None: any value, e.g. a path)
ALLOWED_PARAMS = {
    "keyfile": None,
    "no_tty": ("1",),
    "pkipath": None,
    "known_hosts": None,
    "known_hosts_verify": ("normal", "auto"),
    "sshauth": None,
}
DEFAULT_PORTS = {"ssh": 22, "libssh": 22, "libssh2": 22, "tls": 16514, "tcp": 16509}
EXAMPLE = "e.g. qemu:///system, qemu+ssh://root@hv1.example.com/system, test+unix:///default"

LOCAL, SSH, TLS, OTHER = "local", "ssh", "tls", "uri"
LOCAL_URI = "qemu:///system"


class UriError(ValueError):
    """The URI cannot be used; the message says why, for a form."""


def check(uri, *, allow_test=True):
    """The canonical spelling of `uri`; UriError unless it names a QEMU connection (or, with
    `allow_test`, a test-driver one) that kvmweb may open."""
    uri = (uri or "").strip()
    if not uri:
        raise UriError(f"Enter a libvirt URI ({EXAMPLE}).")
    if any(c.isspace() for c in uri) or "://" not in uri:
        raise UriError(f"This is not a libvirt URI: expected driver[+transport]://[user@]host/path ({EXAMPLE}).")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise UriError(f"This URI cannot be read: {exc}.") from None
    driver, _, transport = parts.scheme.partition("+")
    driver, transport = driver.lower(), transport.lower()
    if driver not in DRIVERS:
        raise UriError(f"Unknown driver '{driver or parts.scheme}': kvmweb manages QEMU/KVM hosts ({EXAMPLE}).")
    if driver == "test" and not allow_test:
        raise UriError(
            "Test driver hosts are not allowed here (an administrator turns them on with KVMWEB_ALLOW_TEST_HOSTS)."
        )
    if transport not in TRANSPORTS:
        raise UriError(f"Unknown or refused transport '{transport}': use one of ssh, libssh, tls, tcp or unix.")
    remote = transport in ("ssh", "libssh", "libssh2", "tls", "tcp")
    if remote and not parts.hostname:
        raise UriError(
            f"A {parts.scheme} URI needs the host to connect to, e.g. {parts.scheme}://hv1.example.com/system."
        )
    if transport in ("ssh", "libssh", "libssh2") and not parts.username:
        raise UriError(f"A {parts.scheme} URI needs the SSH user, e.g. {parts.scheme}://root@hv1.example.com/system.")
    if port is not None and not 0 < port < 65536:
        raise UriError("The port must be between 1 and 65535.")
    if driver == "qemu" and parts.path not in QEMU_PATHS:
        raise UriError(f"A QEMU URI ends in /system (or /session), not '{parts.path or '(nothing)'}'.")
    if driver == "test" and parts.path in ("", "/"):
        raise UriError("A test driver URI names /default or a node XML file, e.g. test+unix:///default.")
    params = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in params:
        if driver == "test" and key == "socket":
            continue  # a fake hypervisor behind another socket: demos and tests only (allow_test)
        if key in REFUSED_PARAMS:
            raise UriError(f"Refused parameter '{key}': {REFUSED_PARAMS[key]}")
        if key not in ALLOWED_PARAMS:
            raise UriError(f"Unknown parameter '{key}': kvmweb accepts {', '.join(sorted(ALLOWED_PARAMS))}.")
        allowed = ALLOWED_PARAMS[key]
        if allowed is not None and value not in allowed:
            raise UriError(f"Refused value {key}={value}: use {' or '.join(allowed)}.")
    if len({k for k, _ in params}) != len(params):
        raise UriError("A parameter is given twice.")
    return _canonical(parts, driver, transport, port, params)


def _canonical(parts, driver, transport, port, params):
    scheme = driver + (f"+{transport}" if transport else "")
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and port != DEFAULT_PORTS.get(transport):
        netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{quote(parts.username, safe='')}@{netloc}"
    query = urlencode(sorted(params)) if params else ""
    return f"{scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def same(a, b):
    """Whether two stored URIs name the same connection (older rows may not be canonical)."""
    try:
        return check(a) == check(b)
    except UriError:
        return a == b


def build(kind, *, address="", port=None, username="", keyfile="", pkipath=""):
    """The URI for one of the form's connection kinds (OTHER is typed in whole, not built)."""
    if kind == LOCAL:
        return LOCAL_URI
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"  # an IPv6 address
    netloc = quote(address, safe=".-:[]")
    if port:
        netloc = f"{netloc}:{int(port)}"
    if kind == SSH:
        # no_tty: ssh must never wait for a password prompt on a worker; it fails instead, with its reason.
        params = [("keyfile", keyfile)] if keyfile else []
        return f"qemu+ssh://{quote(username, safe='')}@{netloc}/system?" + urlencode([*params, ("no_tty", "1")])
    if kind == TLS:
        query = "?" + urlencode([("pkipath", pkipath)]) if pkipath else ""
        return f"qemu+tls://{netloc}/system{query}"
    raise ValueError(kind)


def split(uri):
    """Form fields for an existing URI: the kind plus its parts, or OTHER with the URI as typed."""
    if uri == LOCAL_URI:
        return {"kind": LOCAL}
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return {"kind": OTHER, "uri": uri}
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    common = {"address": parts.hostname or "", "port": port}
    if parts.scheme == "qemu+ssh" and parts.path == "/system" and set(params) <= {"keyfile", "no_tty"}:
        return {"kind": SSH, "username": parts.username or "", "keyfile": params.get("keyfile", ""), **common}
    if parts.scheme == "qemu+tls" and parts.path == "/system" and set(params) <= {"pkipath"} and not parts.username:
        return {"kind": TLS, "pkipath": params.get("pkipath", ""), **common}
    return {"kind": OTHER, "uri": uri}


def file_params(uri):
    """The local files a URI names ({parameter: path}) that must exist where the connection opens."""
    query = urlsplit(uri).query
    return {k: v for k, v in parse_qsl(query) if k in ("keyfile", "pkipath", "known_hosts", "authfile") and v}
