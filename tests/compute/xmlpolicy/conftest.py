"""Pools, volumes and users for the XML policy's tests, and a helper that writes a domain around
a few devices (the policy is handed a parsed <domain>, as the XML tab and define-from-XML do)."""

import pytest
from lxml import etree

from apps.accounts.services import grant_add, role_create, user_create
from apps.storage.models import StoragePool, StorageVolume

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
NAME = "victim"
OWN_NVRAM = f"/var/lib/libvirt/qemu/nvram/{NAME}_VARS.fd"


def domain(devices="", *, os="", top="", name=NAME):
    """A <domain> named `name` with these devices, <os> children and other top-level elements."""
    return etree.fromstring(
        f"<domain type='kvm' xmlns:qemu='{QEMU_NS}'><name>{name}</name><memory unit='MiB'>64</memory>"
        f"<vcpu>1</vcpu>{top}<os><type arch='x86_64'>hvm</type>{os}</os><devices>{devices}</devices></domain>"
    )


def _pool(host, name, **kw):
    n = StoragePool.objects.filter(host=host).count()
    return StoragePool.objects.create(
        host=host, uuid=f"5ec0e7a5-0000-4000-8000-{n:012d}", name=name, pool_type="dir", state="running",
        target_path=f"/srv/{name}", **kw,
    )  # fmt: skip


def _volume(pool, name, fmt="qcow2", **kw):
    path = f"{pool.target_path}/{name}"
    return StorageVolume.objects.create(pool=pool, name=name, key=path, path=path, format=fmt, capacity=1, **kw)


@pytest.fixture
def pools(demo_host):
    """Two teams' pools and the ISO library, with a volume or two each."""
    team_a, team_b = _pool(demo_host, "team-a"), _pool(demo_host, "team-b")
    isos = _pool(demo_host, "isos", is_iso_library=True)
    return {
        "team-a": team_a,
        "team-b": team_b,
        "isos": isos,
        "a.qcow2": _volume(team_a, "a.qcow2"),
        "a.raw": _volume(team_a, "a.raw", fmt="raw"),
        "b.qcow2": _volume(team_b, "b.qcow2"),
        "debian.iso": _volume(isos, "debian.iso", fmt="iso"),
    }


@pytest.fixture
def team_user(demo_host, pools):
    """Edits VMs on the host and uses team A's pool; sees the ISO library; nothing else."""
    user, _ = user_create(actor=None, username="tina-team-a", password="unused-Passw0rd!")
    role_create(actor=None, name="VM editor", permissions=["vm.view", "vm.edit", "vm.create"])
    role_create(actor=None, name="Pool user", permissions=["storage.view", "storage.use"])
    role_create(actor=None, name="Pool viewer", permissions=["storage.view"])
    grant_add(actor=None, user=user, role="VM editor", scope=demo_host)
    grant_add(actor=None, user=user, role="Pool user", scope=pools["team-a"])
    grant_add(actor=None, user=user, role="Pool viewer", scope=pools["isos"])
    return user
