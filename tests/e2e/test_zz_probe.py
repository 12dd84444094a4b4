import pytest

pytestmark = [pytest.mark.browser]


def test_probe_idle_socket(transactional_db, stack, demo_host, viewer, open_tab):
    tab = open_tab(viewer)
    page = tab.page
    page.evaluate("""() => { window.__ws = [];
      for (const n of ["htmx:wsOpen", "htmx:wsClose", "htmx:wsError"])
        document.addEventListener(n, (e) => window.__ws.push([n, Math.round(performance.now()), e.detail && e.detail.event && e.detail.event.code]));
    }""")
    tab.wait_live()
    page.wait_for_timeout(25_000)
    print("WS EVENTS", page.evaluate("window.__ws"))
    print(stack.log("web")[-3000:])
