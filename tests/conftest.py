import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from channels.layers import channel_layers
from django.conf import settings

from apps.accounts.services import grant_add, user_create
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain, Graphics
from apps.core.errors import VirtError
from apps.hosts.services import host_create
from apps.hosts.virt import connection
from tests.helpers import QEMU_URI, TEST_URI, remove_created_domains, sync_networks, unavailable, unique, wait_for

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"


def _flush_retrying_deadlocks():
    """Transactional tests end with a TRUNCATE of every table. With the stack running, the monitor
    and worker processes keep writing (as they do in production), and PostgreSQL may pick the
    TRUNCATE as a deadlock's victim; the flush is then simply tried again."""
    import time

    from django.core.management.base import CommandError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for attempt in range(5):
            try:
                return original(self)
            except CommandError as exc:
                if "deadlock detected" not in str(exc.__cause__) or attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    TransactionTestCase._fixture_teardown = teardown


_flush_retrying_deadlocks()


def pytest_collection_modifyitems(items):
    """Tests on the live stack run last: once started, its monitor watches every host the later
    tests create, which in-process tests of the monitor and inventory do not expect."""
    # The test that restarts libvirtd goes after everything (it wipes the test driver's state).
    items.sort(
        key=lambda item: (
            "libvirtd_restart" in getattr(item, "fixturenames", ()),
            "stack" in getattr(item, "fixturenames", ()),
        )
    )


@pytest.fixture(scope="session", autouse=True)
def clean_redis():
    """Tests use their own Redis database; drop tasks and channel messages a previous run left."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a channel layer object of its own: a consumer a test left running in an event
    loop that has since closed keeps the layer's receive lock, bound to that loop, and the next
    in-process consumer would wait on it in vain (RuntimeError: bound to a different event loop)."""
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Real hashing costs ~0.5 s a user; tests make many users and do not test the hasher. Tests
    with the live stack keep it: its web server checks passwords with the real settings."""
    if "stack" in request.fixturenames:
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def test_driver():
    """Hold a connection for the session: the shared test driver keeps state only while one is open."""
    return connection.get(TEST_URI)


@pytest.fixture(autouse=True)
def _remove_test_domains():
    yield
    remove_created_domains()


@pytest.fixture
def qemu_conn():
    """The real libvirtd's QEMU driver, or a skip that says why it is not here."""
    try:
        return connection.get(QEMU_URI)
    except VirtError as exc:
        unavailable(f"libvirtd's QEMU driver does not answer here: {exc}")


IMAGES = "/var/lib/libvirt/images"


@pytest.fixture(params=["kvm", "qemu"], ids=["kvm", "tcg"])
def tiny_domain(request, qemu_conn):
    """A tiny real QEMU domain (96 MiB, ACPI, a 64 MiB qcow2, VNC on 127.0.0.1), under KVM where
    /dev/kvm works and under TCG always; removed afterwards."""
    virt_type = request.param
    if virt_type == "kvm" and domains.best_virt_type(qemu_conn) != "kvm":
        pytest.skip("KVM is not usable on this host; the TCG run covers it")
    name = unique("kvmweb-test")
    image = f"{IMAGES}/{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "64M"], check=True)
    spec = Domain(
        name=name,
        memory_mib=96,
        vcpus=1,
        domain_type=virt_type,
        uuid=str(uuid.uuid4()),
        acpi=True,
        disks=[Disk(source=image)],
        graphics=[Graphics(type="vnc", listen="127.0.0.1")],
    )
    dom_uuid = domains.define(qemu_conn, spec.to_xml())
    yield name, dom_uuid
    domains.undefine(qemu_conn, dom_uuid)
    subprocess.run(["rm", "-f", image], check=False)


@pytest.fixture
def demo_host(db, test_driver):
    """Host "demo" on the shared test driver, with its libvirt networks in the inventory (as the
    monitor's first sync leaves them; NICs and the wizard name networks by the inventory)."""
    host = host_create(actor=None, name="demo", uri=TEST_URI)
    sync_networks(host)
    return host


def _user(name, role=None, superuser=False):
    user, _ = user_create(actor=None, username=name, password=PASSWORD, superuser=superuser)
    if role:
        grant_add(actor=None, user=user, role=role)
    return user


@pytest.fixture
def admin(db):
    return _user("alice-admin", superuser=True)


@pytest.fixture
def operator(db):
    return _user("oscar-operator", "Operator")


@pytest.fixture
def viewer(db):
    return _user("vera-viewer", "Viewer")


@pytest.fixture
def outsider(db):
    """Logged in, but granted nothing."""
    return _user("olga-outsider")


# -- the real stack: worker, monitor and web as separate processes ------------------------------


def _database_url():
    db = settings.DATABASES["default"]
    host = quote(db.get("HOST") or "", safe="")
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


class Stack:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KVMWEB_DATABASE_URL": _database_url(),
            "KVMWEB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "KVMWEB_MONITOR_TICK": "0.5",
            "KVMWEB_RECONNECT_MAX": "2",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name, *args):
        log = open(self.workdir / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name):
        return (self.workdir / f"{name}.log").read_text()

    def stop(self):
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory, test_driver):
    """A real Celery worker, the monitor and the ASGI web server against the test database."""
    import urllib.request

    bin_dir = Path(sys.executable).parent
    # The web server serves the collected files (WhiteNoise): collect them now, so a run of pytest
    # without scripts/test never tests yesterday's JavaScript.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True)
    s = Stack(tmp_path_factory.mktemp("stack"))
    s.start(
        "worker",
        str(bin_dir / "celery"),
        "-A",
        "kvmweb",
        "worker",
        "-Q",
        "default",
        "-n",
        "kvmweb-test@%h",
        "-c",
        "2",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    )
    s.start("monitor", sys.executable, "manage.py", "monitor", "--tick", "0.5")
    s.start("web", str(bin_dir / "uvicorn"), "kvmweb.asgi:application", "--port", str(s.port), "--log-level", "warning")

    def web_up():
        try:
            return urllib.request.urlopen(s.url + "/login/", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_for(lambda: "ready" in s.log("worker"), timeout=30, message="the worker")
        wait_for(web_up, timeout=30, message="the web server")
    except AssertionError:
        s.stop()
        for name in s.procs:
            print(f"--- {name} ---\n{s.log(name)}")
        raise
    yield s
    s.stop()
