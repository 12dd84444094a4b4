"""What the route matrix's rows are written with: roles, expected answers, and the objects the
routes act on. The rows live in test_route_matrix.py and, one file per area, in matrix_*.py
(each defines ROWS); test_route_matrix.py merges them."""

ROLES = ["anonymous", "viewer", "vm_user", "operator", "admin"]
LOGIN = "login"  # a redirect to the login page
OK, FORBIDDEN, NO_CONTENT, REDIRECT, BAD = 200, 403, 204, 302, 400
# A VM, host or pool the user may not see answers like a missing one (no id is confirmed).
NOT_FOUND = 404


def row(anonymous, viewer, vm_user, operator, admin):
    return dict(zip(ROLES, [anonymous, viewer, vm_user, operator, admin], strict=True))


ADMIN_ONLY_GET = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
ADMIN_ONLY_POST = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, REDIRECT)
EVERYONE = row(LOGIN, OK, OK, OK, OK)


def _pool(o):
    """A pool inventory row on the world's host (its actions are queued, never run, here)."""
    from apps.storage.models import StoragePool

    return StoragePool.objects.get_or_create(
        host=o["vm"].host,
        uuid="5ec0e7a5-0000-4000-8000-0000000000aa",
        defaults={"name": "matrix-pool", "pool_type": "dir", "state": "running"},
    )[0]


def _secret(o):
    """A secret inventory row on the world's host, for the secret routes (no libvirt needed)."""
    from apps.storage.models import Secret

    return Secret.objects.get_or_create(
        host=o["vm"].host,
        uuid="5ec0e7a5-0000-4000-8000-000000000001",
        defaults={"usage_type": "ceph", "usage_id": "client.matrix"},
    )[0]


def _volume(o):
    """A volume inventory row in the matrix pool (its actions are queued, never run, here)."""
    from apps.storage.models import StorageVolume

    pool = _pool(o)
    return StorageVolume.objects.get_or_create(
        pool=pool, name="matrix.qcow2", defaults={"key": "k", "path": "/m/matrix.qcow2", "capacity": 1 << 20}
    )[0]


def _transfer(o, kind, status="queued"):
    """An upload or download operation the admin started in the matrix pool."""
    from apps.operations.models import Operation

    pool, admin = _pool(o), o["users"]["admin"]
    return Operation.objects.get_or_create(
        kind=kind,
        actor=admin,
        defaults={
            "status": status,
            "target_type": "volume",
            "target_id": "",
            "target_name": "matrix-pool/up.img",
            "host_id": pool.host_id,
            "params": {"pool_id": pool.pk, "name": "up.img", "size": 10},
        },
    )[0]
