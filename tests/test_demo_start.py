"""A first start of the demo shows a newcomer what they need and nothing else: the steps
scripts/run takes before its processes (migrate, the demo host, the admin account) print only the
admin password, and its worker starts as root without Celery's superuser warning or axes' banner.
Each runs in a fresh process on a fresh SQLite database, as a first `scripts/run` does."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
RUN = (ROOT / "scripts" / "run").read_text()


def _demo_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVMWEB_")}
    env.update(
        KVMWEB_DATABASE_URL=f"sqlite:///{tmp_path / 'kvmweb.sqlite3'}",
        KVMWEB_REDIS_URL=settings.REDIS_URL,
        KVMWEB_SECRET_KEY="demo-start-test-" + "x" * 40,
        KVMWEB_ALLOW_TEST_HOSTS="1",
        KVMWEB_LOG_LEVEL="WARNING",  # what scripts/run sets
        PYTHONWARNINGS="",
    )
    return env


def _manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_first_start_prints_only_the_admin_password(tmp_path):
    env = _demo_env(tmp_path)
    out = _manage(env, "migrate", "--noinput", "-v0")
    out += _manage(env, "host_add", "-v0", "demo", "test:///default")
    out += _manage(env, "ensure_admin", "-v0")
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, "\n".join(lines)
    assert lines[0].startswith("admin account 'admin' created; password (shown once): ")


def test_the_root_worker_starts_without_warnings(tmp_path):
    """The worker line of scripts/run, with its root-only environment, on a queue of its own."""
    assert "--quiet worker" in RUN and "superuser privileges" in RUN
    env = _demo_env(tmp_path)
    if os.geteuid() == 0:
        env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
    queue = f"kvmweb-demo-start-{os.getpid()}"
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "kvmweb",
            "--quiet",
            "worker",
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
            "-c",
            "1",
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The worker answers a ping once it consumes; by then it has printed all it prints at start.
        deadline = time.monotonic() + 60
        ping = [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "kvmweb",
            "inspect",
            "ping",
            "-d",
            f"{queue}@{os.uname().nodename}",
            "-t",
            "2",
        ]
        while time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read()
            if subprocess.run(ping, cwd=ROOT, env=env, capture_output=True, timeout=30).returncode == 0:
                break
        else:
            raise AssertionError("the worker did not answer within 60 s")
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[0]
    assert "superuser" not in output, output
    assert "AXES" not in output, output
    assert "WARNING" not in output, output
