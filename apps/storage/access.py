"""Using a pool's volumes: attaching one to a VM (read-write) needs more than seeing the pool.

Seeing a pool (storage.view) lets a user list its volumes; attaching or importing one hands its
contents to a VM they control — another team's disk, for instance. That takes storage.use (a right
roles can hold without managing the pool) or storage.manage on the pool. ISO images are read-only
and come from the host's ISO library, for which seeing the pool is enough.
"""

from apps.authz.rights import authorize, may


def may_use(user, pool):
    return may(user, "storage.use", pool) or may(user, "storage.manage", pool)


def authorize_use(user, pool):
    """PermissionDenied (audited as a refused storage.use) unless the user may use the pool."""
    if not may_use(user, pool):
        authorize(user, "storage.use", pool)
