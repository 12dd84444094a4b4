"""No Docker engine runs here, so check compose.yaml, the Dockerfile and deploy/Caddyfile against the
project instead: every process and command exists, TLS is in front and is the only way in, Redis
needs its password, and the image runs as an ordinary user without the test tools."""

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "monitor", "beat")
# What a user puts in .env (compose refuses to start without the first four).
DOTENV = {
    "KVMWEB_SECRET_KEY": "k" * 20 + "-0123456789-abcdefghijklmnopqrstuvwxyz",
    "POSTGRES_PASSWORD": "pgsecret",
    "REDIS_PASSWORD": "redissecret",
    "LIBVIRT_GID": "127",
}
TEST_TOOLS = ("pytest", "pytest-django", "pytest-timeout", "playwright", "ruff", "import-linter", "daphne")


def _compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def interpolate(value, env):
    """Compose's variable substitution: $$, ${NAME}, ${NAME:-default}, ${NAME-default},
    ${NAME:?error}, ${NAME?error}, ${NAME:+other}."""

    def one(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name") or match.group("bare"), match.group("op"), match.group("arg")
        value = env.get(name)
        unset_or_empty = not value if op and op.startswith(":") else value is None
        if op in (":-", "-"):
            return arg if unset_or_empty else value
        if op in (":?", "?"):
            if unset_or_empty:
                raise KeyError(f"{name}: {arg}")
            return value
        if op in (":+", "+"):
            return "" if unset_or_empty else arg
        return value or ""

    pattern = r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)"
    return re.sub(pattern, one, value)


def service_environment(name, env=DOTENV):
    """A service's environment as its container sees it, given the .env values."""
    return {key: interpolate(str(value), env) for key, value in _compose()["services"][name]["environment"].items()}


def _final_stage(dockerfile):
    """The Dockerfile's last stage: what the image holds."""
    return re.split(r"^FROM .*$", dockerfile, flags=re.M)[-1]


def test_every_service_is_there():
    assert set(_compose()["services"]) >= {"caddy", *APP_SERVICES, "redis", "postgres"}


def test_every_app_service_mounts_the_libvirt_socket_and_uses_postgres():
    for name in APP_SERVICES:
        service = _compose()["services"][name]
        assert "/var/run/libvirt:/var/run/libvirt" in service["volumes"], name
        assert service["environment"]["KVMWEB_DATABASE_URL"].startswith("postgres://"), name


def test_every_command_exists_in_the_project():
    commands = get_commands()
    for name in APP_SERVICES:
        command = _compose()["services"][name]["command"]
        for manage in re.findall(r"manage\.py (\w+)", command):
            assert manage in commands, f"{name}: manage.py {manage} does not exist"
        for module in re.findall(r"uvicorn ([\w.]+):(\w+)", command):
            mod = __import__(module[0], fromlist=[module[1]])
            assert hasattr(mod, module[1]), f"{name}: {module} does not exist"
        for app in re.findall(r"celery -A (\w+)", command):
            assert hasattr(__import__(app), "celery_app"), f"{name}: celery app {app} not found"


def test_the_image_copies_front_end_assets_from_npm():
    """The image installs the locked npm packages and copies them as scripts/setup does (one
    script for both), the consoles' noVNC and xterm.js among them."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "scripts/vendor" in dockerfile and "sh vendor vendor" in dockerfile
    vendor = (ROOT / "scripts/vendor").read_text()
    for package in ("node_modules/htmx.org", "node_modules/@novnc/novnc", "node_modules/@xterm/xterm", "uplot"):
        assert package in vendor


def test_caddy_is_the_only_way_in_and_proxies_to_the_web_server():
    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}, "only the TLS proxy may publish ports: kvmweb trusts its X-Forwarded headers"
    assert {"80:80", "443:443"} <= set(services["caddy"]["ports"])

    mounts = [m.split(":") for m in services["caddy"]["volumes"]]
    [caddyfile] = [ROOT / src for src, dst, *_ in mounts if dst == "/etc/caddy/Caddyfile"]
    text = caddyfile.read_text()
    port = re.search(r"uvicorn .* --port (\d+)", services["web"]["command"]).group(1)
    assert re.search(rf"^\s*reverse_proxy web:{port}$", text, re.M), "Caddy must proxy to the port uvicorn listens on"
    assert re.search(r"^\{\$KVMWEB_SITE:localhost\} \{$", text, re.M)
    assert re.search(r"^\s*tls \{\$KVMWEB_TLS:internal\}$", text, re.M)


def test_the_trusted_proxy_is_caddys_fixed_address():
    compose = _compose()
    caddy_address = interpolate(compose["services"]["caddy"]["networks"]["default"]["ipv4_address"], DOTENV)
    subnet = interpolate(compose["networks"]["default"]["ipam"]["config"][0]["subnet"], DOTENV)
    assert ipaddress.ip_address(caddy_address) in ipaddress.ip_network(subnet)
    for name in APP_SERVICES:
        env = service_environment(name)
        assert env["KVMWEB_TRUSTED_PROXIES"] == caddy_address, name
        assert env["KVMWEB_PROXY_IP_HEADER"] == "HTTP_X_FORWARDED_FOR", name
        assert env["KVMWEB_HTTPS"] == "1", name


def test_redis_requires_the_password_every_app_uses():
    redis = _compose()["services"]["redis"]
    command = " ".join(redis["command"])
    assert "requirepass" in command and "$$REDIS_PASSWORD" in command
    assert interpolate(redis["environment"]["REDIS_PASSWORD"], DOTENV) == DOTENV["REDIS_PASSWORD"]
    assert interpolate(redis["environment"]["REDISCLI_AUTH"], DOTENV) == DOTENV["REDIS_PASSWORD"]  # healthcheck
    for name in APP_SERVICES:
        url = urlsplit(service_environment(name)["KVMWEB_REDIS_URL"])
        assert (url.hostname, url.password) == ("redis", DOTENV["REDIS_PASSWORD"]), name


def test_the_image_runs_as_an_unprivileged_user_with_libvirts_group():
    stage = _final_stage((ROOT / "Dockerfile").read_text())
    users = re.findall(r"^USER (\S+)$", stage, re.M)
    assert users and users[-1] not in ("root", "0"), "the image must end on an unprivileged USER"
    assert re.search(rf"useradd .*--uid \d+ .*{users[-1]}", stage)
    for name in APP_SERVICES:
        service = _compose()["services"][name]
        assert service.get("user") in (None, users[-1]), f"{name} must not run as root"
        assert [interpolate(g, DOTENV) for g in service["group_add"]] == [DOTENV["LIBVIRT_GID"]], name


def test_the_image_holds_no_test_tools_or_build_tools():
    stage = _final_stage((ROOT / "Dockerfile").read_text())
    assert "requirements-test" not in (ROOT / "Dockerfile").read_text()
    assert not re.search(r"\b(gcc|npm|pkg-config|libvirt-dev)\b", re.sub(r"(?m)^#.*$", "", stage))

    def names(path):
        lines = [line.split("#")[0].strip() for line in (ROOT / path).read_text().splitlines()]
        return [re.split(r"[=<>\[ ]", line)[0].lower() for line in lines if line and not line.startswith("-")]

    runtime = names("requirements.txt")
    assert not set(runtime) & set(TEST_TOOLS)
    assert set(TEST_TOOLS) <= set(names("requirements-test.txt"))
    first = (ROOT / "requirements-test.txt").read_text().splitlines()
    assert "-r requirements.txt" in [line.strip() for line in first if not line.startswith("#")][:1]
