import pytest
from playwright.sync_api import expect

from tests.helpers import make_vm

pytestmark = [pytest.mark.browser]


def test_probe_ops_race(transactional_db, stack, demo_host, operator, open_tab, cleanup_domains):
    vm = make_vm(demo_host, start=True)
    cleanup_domains.append(str(vm.uuid))
    tab = open_tab(operator)
    page = tab.page
    page.evaluate("""() => { window.__oob = []; window.__ws = [];
      document.body.addEventListener("htmx:oobErrorNoTarget", (e) => window.__oob.push(e.detail.content.id || e.detail.content.outerHTML.slice(0, 80)));
      for (const n of ["htmx:wsOpen", "htmx:wsClose"]) document.addEventListener(n, () => window.__ws.push([n, Math.round(performance.now())]));
    }""")
    tab.wait_live()
    row = page.locator(f"#vm-row-{vm.pk}")
    for _i in range(12):
        row.get_by_role("button", name="Pause").click()
        expect(row.locator(".vm-state")).to_have_text("Paused")
        row.get_by_role("button", name="Resume").click()
        expect(row.locator(".vm-state")).to_have_text("Running")
    page.wait_for_timeout(1000)
    ids = page.evaluate("Array.from(document.querySelectorAll('#ops-list li.op')).map(e => e.id + ':' + e.dataset.status)")
    print("OPS", len(ids), ids)
    print("OOB", [x for x in page.evaluate("window.__oob") if str(x).startswith("op")])
    print("WS", page.evaluate("window.__ws"))
