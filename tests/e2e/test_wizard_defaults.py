"""Issue 10, item 6: the New VM wizard's defaults lead somewhere, for an Operator of the demo host.

After the host is chosen the wizard proposes a new disk on the host's default pool and its default
network; it says how to set an ISO library when there is none and offers the library's images when
there is; it shows only the chosen install source's fields; it leaves volumes other VMs use out of
"Disk to import"; the OS search keeps its text after a pick; "Review" lands on the summary."""

import pytest
from playwright.sync_api import expect

from apps.accounts.services import grant_add, user_create
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.compute.virt.xml import Disk, Domain
from apps.hosts.virt import connection
from apps.storage.models import StoragePool
from apps.storage.services.pools import pool_refresh_inventory
from tests.conftest import PASSWORD
from tests.helpers import created_domains, unique, wait_for

pytestmark = [pytest.mark.browser]

VOLUME = "<volume><name>{}</name><capacity>1048576</capacity><target><format type='raw'/></target></volume>"


@pytest.fixture
def host_operator(demo_host):
    """An Operator of the demo host only (made before the browser starts: it publishes)."""
    user, _ = user_create(actor=None, username="otto-demo-operator", password=PASSWORD)
    grant_add(actor=None, user=user, role="Operator", scope=demo_host)
    return user


@pytest.fixture
def volumes(demo_host, stack):
    """Two volumes in the test driver's default-pool, one a disk of a VM (`vm`), synced into the
    inventory before the browser starts, so no live event for them reaches the page; removed
    afterwards (the VM by tests/conftest.py)."""
    pool_row = wait_for(
        lambda: StoragePool.objects.filter(host=demo_host, name="default-pool", present=True).first(),
        timeout=20,
        message="the monitor to list default-pool",
    )
    conn = connection.get(demo_host.uri)
    pool = conn.storagePoolLookupByName("default-pool")
    free, used = (pool.createXML(VOLUME.format(unique(n)), 0) for n in ("free", "used"))
    try:
        pool_refresh_inventory(conn, demo_host, str(pool_row.uuid))
        name = unique("user")
        spec = Domain(name=name, memory_mib=64, vcpus=1, domain_type="test", disks=[Disk(source=used.path())])
        created_domains.append(domains.define(conn, spec.to_xml()))
        vm = wait_for(
            lambda: VirtualMachine.objects.filter(host=demo_host, name=name, present=True).first(),
            message=f"the monitor to list {name}",
        )
        yield {"pool": pool_row, "free": free, "used": used, "vm": vm}
    finally:
        free.delete(0)
        used.delete(0)


def test_the_wizard_defaults_lead_somewhere(transactional_db, stack, demo_host, host_operator, volumes, open_tab):
    pool, free, used, vm = volumes["pool"], volumes["free"], volumes["used"], volumes["vm"]

    tab = open_tab(host_operator)
    page = tab.page
    tab.goto("/vms/new/")
    expect(page.get_by_role("heading", name="New virtual machine")).to_be_visible()
    # The only host the Operator may create on is chosen; its default pool and network are set.
    expect(page.get_by_label("New disk on pool")).to_have_value(str(pool.pk))
    expect(page.get_by_label("Network", exact=True)).to_have_value("default")

    # No ISO library yet: the wizard says so and links to the pools page.
    library = page.locator("#iso-library")
    expect(library).to_contain_text("has no ISO library yet")
    expect(library.get_by_role("link", name="the storage pools page")).to_have_attribute(
        "href", f"/storage/?host={demo_host.pk}"
    )

    # Only the chosen install source's fields show.
    expect(page.get_by_label("ISO image", exact=True)).to_be_visible()
    expect(page.get_by_label("Install tree URL", exact=True)).to_be_hidden()
    expect(page.get_by_label("Disk to import")).to_be_hidden()
    page.get_by_label("Install tree URL (kernel + initrd, like --location)").check()
    expect(page.get_by_label("Install tree URL", exact=True)).to_be_visible()
    expect(page.get_by_label("Extra kernel arguments")).to_be_visible()
    expect(page.get_by_label("ISO image", exact=True)).to_be_hidden()
    page.get_by_label("Import an existing disk").check()
    importable = page.get_by_label("Disk to import")
    expect(importable).to_be_visible()
    expect(page.get_by_label("Install tree URL", exact=True)).to_be_hidden()
    # A volume another VM has as its disk is left out, and the page says by whom.
    expect(importable.locator("option", has_text=free.name())).to_have_count(1)
    expect(importable.locator("option", has_text=used.name())).to_have_count(0)
    expect(page.locator(".create-field[data-field='import_volume'] .form-text")).to_contain_text(
        f"{used.name()} ({vm.name})"
    )

    # The OS search keeps its words after a pick (the pick re-renders the form).
    page.get_by_label("ISO image (CD-ROM)").check()
    page.locator("#os-search").fill("debian 11")
    expect(page.locator("#id_os_id option[value='debian11']")).to_have_count(1)
    page.locator("#id_os_id").select_option("debian11")
    expect(page.locator("#os-facts")).to_contain_text("Debian 11")
    expect(page.locator("#os-search")).to_have_value("debian 11")
    expect(page.locator("#id_os_id option[value='debian12']")).to_have_count(0)  # still the matches only
    # The re-render kept the install source and its fields.
    expect(page.get_by_label("ISO image", exact=True)).to_be_visible()
    expect(page.get_by_label("Disk to import")).to_be_hidden()

    # "Review" lands on the summary, not the page's bottom.
    page.get_by_label("Name").fill(unique("wiz"))
    page.get_by_label("PXE", exact=False).check()
    page.get_by_role("button", name="Review XML").click()
    review = page.locator("#create-review")
    expect(review).to_be_in_viewport()
    expect(review).to_be_focused()
    tab.assert_quiet()

    # With the pool set as the host's ISO library, its images are offered.
    StoragePool.objects.filter(pk=pool.pk).update(is_iso_library=True)
    tab.goto("/vms/new/")
    expect(library).to_contain_text("From default-pool, the ISO library of demo.")
    expect(page.get_by_label("ISO image", exact=True).locator("option", has_text=free.name())).to_have_count(1)
    tab.assert_quiet()
