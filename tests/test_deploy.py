"""Django's deployment checks and the HTTPS behaviour with the settings compose.yaml gives the web
service, each in a fresh process (settings are read from the environment once, at start)."""

import os
import secrets
import subprocess
import sys

from tests.test_compose import DOTENV, ROOT, service_environment

# What the request below prints, read back by the test: one request as it reaches the ASGI server
# straight (plain http), one as Caddy forwards it (X-Forwarded-Proto: https).
BEHIND_THE_PROXY = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
plain = client.get("/login/")
print("plain", plain.status_code, plain.get("Location"))
proxied = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
csrf = proxied.cookies["csrftoken"]
print("proxied", proxied.status_code)
print("hsts", proxied.get("Strict-Transport-Security"))
print("csrf-secure", bool(csrf["secure"]))
print("csp", proxied.get("Content-Security-Policy"))
"""


def _compose_env(**changes):
    """The process environment of compose's web container: this machine's, less every KVMWEB_
    setting of the test run, plus what compose sets (a real-length secret key, as .env would hold)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVMWEB_")}
    env.update(service_environment("web", {**DOTENV, "KVMWEB_SECRET_KEY": secrets.token_urlsafe(50)}))
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_with_composes_settings_prints_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_compose_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_without_https_check_deploy_names_what_is_missing():
    """The same check fails without KVMWEB_HTTPS: the four warnings the issue found."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_compose_env(KVMWEB_HTTPS=None))
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, check


def test_behind_the_proxy_cookies_are_secure_and_plain_http_is_redirected():
    result = _manage("shell", "-v", "0", "-c", BEHIND_THE_PROXY, env=_compose_env())
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["plain"] == "301 https://localhost/login/"
    assert lines["proxied"] == "200"
    assert lines["hsts"] == "max-age=31536000"
    assert lines["csrf-secure"] == "True"
    policy = dict(part.strip().split(" ", 1) for part in lines["csp"].split(";"))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
