"""The pool page in Chromium against the real stack and a real libvirtd dir pool: create a volume,
upload a file with the progress bar moving, download it back byte-identical, delete it.

Data fixtures come before `open_tab` (see tests/e2e/conftest.py for why the browser starts last).
The page is reloaded after each operation instead of waiting for the live pool summary: that
fragment follows a leading <tr> (the pool list's row) in the same message, and the HTML parser then
drops the volume table and forms inside the summary.
"""

import os
import threading

import pytest
from playwright.sync_api import expect

from apps.hosts.services import host_create
from apps.storage.services.pools import pool_refresh_inventory
from tests.e2e.conftest import browser, open_tab  # noqa: F401  (the e2e fixtures)
from tests.storage.test_volumes_real import REAL_URI, real_connection, real_dir_pool, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
MiB = 1 << 20

# Records every width the "sent" bar takes, so the test can tell it moved rather than jumped.
WATCH_BAR = """() => {
  window.sentWidths = [];
  const bar = document.querySelector(".upload-sent");
  new MutationObserver(() => window.sentWidths.push(bar.style.width)).observe(bar, {attributes: true});
}"""


@pytest.fixture
def real_pool(stack, db):
    conn = real_connection()
    with real_dir_pool(conn) as (uuid, _path):
        host = host_create(actor=None, name=f"local-{uuid[:8]}", uri=REAL_URI)
        pool = pool_refresh_inventory(conn, host, uuid)
        yield pool
    conn.close()
    settle(pool)


def _done(page, kind, name):
    """Wait for the operation's live row in the panel to say succeeded."""
    row = page.locator(f'#ops-list li.op[data-status="succeeded"][data-kind="{kind}"]').filter(has_text=name)
    expect(row).to_have_count(1, timeout=30_000)


def _reload(tab, pool):
    tab.goto(f"/storage/{pool.pk}/")
    tab.wait_live()


def test_create_upload_download_delete_in_the_browser(real_pool, operator, open_tab, tmp_path):  # noqa: F811
    data = os.urandom(6 * MiB + 4321)
    upload_file = tmp_path / "disk.img"
    upload_file.write_bytes(data)
    tab = open_tab(operator)
    _reload(tab, real_pool)
    page = tab.page

    create = page.locator("#volume-create")
    create.get_by_label("Name").fill("made-here.qcow2")
    create.get_by_label("Capacity (virtual size)").fill("64")
    create.get_by_label("unit").select_option("MiB")
    create.get_by_role("button", name="Create volume").click()
    expect(page.locator("#volume-create .alert-info")).to_contain_text("queued as operation")
    _done(page, "volume.create", "made-here.qcow2")
    _reload(tab, real_pool)
    row = page.locator('#volume-table tr.volume-row[data-name="made-here.qcow2"]')
    expect(row).to_contain_text("64 MiB")

    upload = page.locator("#volume-upload")
    upload.locator('input[type="file"]').set_input_files(str(upload_file))
    page.evaluate(WATCH_BAR)
    upload.get_by_role("button", name="Upload").click()
    expect(upload.locator(".upload-status")).to_have_text("Uploaded.", timeout=30_000)
    widths = page.evaluate("window.sentWidths")
    assert widths[-1] == "100%" and len({w for w in widths if w not in ("0%", "100%")}) >= 2, widths
    _reload(tab, real_pool)
    uploaded = page.locator('#volume-table tr.volume-row[data-name="disk.img"]')
    expect(uploaded).to_be_visible()

    uploaded.locator("summary").click()
    with page.expect_download() as download_info:
        uploaded.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "disk.img"
    assert open(download.path(), "rb").read() == data

    # The in-page confirmation dialog asks first; the tab answers it and keeps the question.
    tab.accept_confirms = True
    row.locator("summary").click()
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#kv-confirm")).not_to_be_visible()
    assert any("Delete volume made-here.qcow2?" in q for q in tab.confirms)
    expect(page.locator("#volume-messages")).to_contain_text("volume.delete")
    _done(page, "volume.delete", "made-here.qcow2")
    _reload(tab, real_pool)
    expect(row).to_have_count(0)
    expect(uploaded).to_have_count(1)
    tab.assert_quiet()


def test_an_open_volume_menu_survives_a_live_update(real_pool, operator, open_tab):  # noqa: F811
    """The table re-renders when the pool's volumes change; a menu someone has open (and what
    they typed into it) stays as it is."""
    from apps.storage.virt import volumes as volume_virt
    from apps.storage.virt.volume_xml import Volume

    conn = real_connection()

    def add_volume(name):  # in a thread: Playwright's event loop owns this one, and publishing needs its own
        def run():
            volume_virt.create(conn, str(real_pool.uuid), Volume(name=name, capacity=MiB, format="raw").to_xml())
            pool_refresh_inventory(conn, real_pool.host, str(real_pool.uuid))

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()

    add_volume("first.img")
    tab = open_tab(operator)
    _reload(tab, real_pool)
    page = tab.page
    first = page.locator('#volume-table tr.volume-row[data-name="first.img"]')
    first.locator("summary").click()
    first.get_by_label("new size").fill("7")

    add_volume("second.img")
    expect(page.locator('#volume-table tr.volume-row[data-name="second.img"]')).to_be_visible()
    expect(first.locator("details.volume-actions")).to_have_attribute("open", "")
    expect(first.get_by_label("new size")).to_have_value("7")
    conn.close()
    tab.assert_quiet()
