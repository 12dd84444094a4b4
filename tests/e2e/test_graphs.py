"""The graphs in the browser: a VM's Graphs tab draws its points and moves on with the host's
ticks, the range buttons read another range, the host page has its own graphs, and the VM list's
sparklines and the busiest VMs page show what the monitor measured."""

import re
import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from apps.compute.stats import recorder
from apps.compute.virt.domains import DomainInfo
from apps.compute.virt.stats import DomainCounters
from apps.hosts.virt.stats import HostCounters

pytestmark = [pytest.mark.browser]


def _points(locator):
    return int(locator.get_attribute("data-points") or 0)


def test_the_graphs_tab_draws_points_and_moves_on(transactional_db, stack, demo_host, viewer, new_vm, open_tab):
    vm = new_vm(demo_host, start=True)
    tab = open_tab(viewer)
    page = tab.page
    tab.goto(f"/vms/{vm.pk}/?tab=graphs")
    tab.wait_live()
    graphs = page.locator(f"#vm-graphs-{vm.pk}")
    expect(graphs.locator(".kv-chart canvas")).to_have_count(6)
    expect(graphs).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    seen = _points(graphs)
    # The monitor ticks every half second here: the graph appends each tick's point.
    expect(graphs).not_to_have_attribute("data-points", str(seen))
    assert _points(graphs) > seen
    expect(graphs.locator('[data-chart="cpu"] .u-legend')).to_contain_text("of its vCPUs")

    graphs.get_by_role("button", name="24 h").click()
    expect(graphs).to_have_attribute("data-range", "24h")
    expect(graphs.get_by_role("button", name="24 h")).to_have_attribute("aria-pressed", "true")
    expect(graphs.locator(".kv-chart canvas")).to_have_count(6)
    # Another tab and back: the graphs start again, and nothing is left listening.
    page.locator('#vm-tabs a[data-tab="overview"]').click()
    expect(page.locator(f'#vm-tab-{vm.pk}[data-tab="overview"]')).to_be_visible()
    page.locator('#vm-tabs a[data-tab="graphs"]').click()
    expect(page.locator(f"#vm-graphs-{vm.pk}")).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    tab.assert_quiet()


def test_the_host_page_graphs_move_on(transactional_db, stack, demo_host, viewer, open_tab):
    tab = open_tab(viewer)
    page = tab.page
    tab.goto(f"/hosts/{demo_host.pk}/")
    tab.wait_live()
    graphs = page.locator(f"#host-graphs-{demo_host.pk}")
    expect(graphs.locator(".kv-chart canvas")).to_have_count(2)
    expect(graphs).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    seen = _points(graphs)
    expect(graphs).not_to_have_attribute("data-points", str(seen))
    tab.assert_quiet()


def _measured(host, vms, *, minutes=20):
    """What the monitor would have recorded in the last `minutes`, VM i busy on (i+1)/10 of its
    CPU, written from this process (the stack's monitor adds to the same series as it goes)."""
    state, step = SimpleNamespace(pk=host.pk, name=host.name), 2.0
    t, used = time.time() - minutes * 60, [0] * len(vms)
    while t < time.time() - 5:
        infos = []
        for i, vm in enumerate(vms):
            counters = DomainCounters(1, used[i], 1 << 20, 0, 0, 0, 0, 0, 0, 0, 0)
            infos.append(DomainInfo(str(vm.uuid), vm.name, "running", 1, 1 << 20, 1 << 20, counters=counters))
            used[i] += int((i + 1) / 10 * step * 1e9)
        recorder._record(state, HostCounters(4, 8 << 20, None, None, None), infos, t)
        t += step
    recorder.forget(host.pk)


def test_sparklines_in_the_list_and_the_busiest_vms(transactional_db, stack, demo_host, viewer, new_vm, open_tab):
    vms = [new_vm(demo_host, start=True) for _ in range(3)]
    _measured(demo_host, vms)
    tab = open_tab(viewer)
    page = tab.page
    tab.goto(f"/vms/?host={demo_host.pk}")
    tab.wait_live()
    for vm in vms:
        spark = page.locator(f'#vm-row-{vm.pk} [data-spark="{vm.pk}"]')
        expect(spark.locator("polyline")).to_have_count(1)
        expect(spark).to_have_attribute("data-spark-points", re.compile(r"^(19|[2-3]\d)$"))

    tab.goto("/vms/busiest/")
    rows = page.locator("#busiest-cpu .busiest-row")
    expect(rows).to_have_count(3)
    # The busiest first: the last VM, at 30 % of its one vCPU.
    expect(rows.first).to_contain_text(vms[2].name)
    expect(rows.first).to_contain_text("30.0 %")
    tab.assert_quiet()
