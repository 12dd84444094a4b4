"""No Docker engine runs here, so check compose.yaml against the project instead."""

import re
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent


def _compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_every_service_is_there():
    assert set(_compose()["services"]) >= {"web", "worker", "monitor", "beat", "redis", "postgres"}


def test_every_app_service_mounts_the_libvirt_socket_and_uses_postgres():
    for name in ("web", "worker", "monitor", "beat"):
        service = _compose()["services"][name]
        assert "/var/run/libvirt:/var/run/libvirt" in service["volumes"], name
        assert service["environment"]["KVMWEB_DATABASE_URL"].startswith("postgres://"), name


def test_every_command_exists_in_the_project():
    commands = get_commands()
    for name in ("web", "worker", "monitor", "beat"):
        command = _compose()["services"][name]["command"]
        for manage in re.findall(r"manage\.py (\w+)", command):
            assert manage in commands, f"{name}: manage.py {manage} does not exist"
        for module in re.findall(r"uvicorn ([\w.]+):(\w+)", command):
            mod = __import__(module[0], fromlist=[module[1]])
            assert hasattr(mod, module[1]), f"{name}: {module} does not exist"
        for app in re.findall(r"celery -A (\w+)", command):
            assert hasattr(__import__(app), "celery_app"), f"{name}: celery app {app} not found"


def test_the_image_copies_front_end_assets_from_npm():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "node_modules/htmx.org" in dockerfile
