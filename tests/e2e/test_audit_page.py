"""The audit log as an administrator reviews it: one line per action with how it ended, sentences
that name the object (and the snapshot), changes in words, refusals that say what was tried, a
table that stays in its column, and a line that updates in place when the action ends."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.compute.services import settings as vm_settings
from apps.compute.services.power import vm_power
from apps.compute.services.snapshots import vm_snapshot_create
from apps.operations.models import Operation
from tests.helpers import wait_for

pytestmark = [pytest.mark.browser]


def _finished(op):
    return wait_for(
        lambda: Operation.objects.filter(pk=op.pk, status__in=["succeeded", "failed"]).first(),
        timeout=20,
        message=f"operation {op.kind} to end",
    )


def _settings(vm, **changes):
    current = vm_settings.read(vm)
    values = {
        "vcpus": current.vcpus,
        "max_vcpus": current.max_vcpus,
        "memory_mib": current.memory_kib // 1024,
        "max_memory_mib": current.max_memory_kib // 1024,
        "autostart": current.autostart,
        "boot": current.boot,
        "bootmenu": current.bootmenu,
        "title": current.title,
        "description": current.description,
    }
    return values | changes


@pytest.fixture
def history(transactional_db, stack, demo_host, operator, viewer, new_vm):
    """A VM with a snapshot, a settings change and a refused start, made before the browser starts
    (services publish live events, which Playwright's loop would stop)."""
    vm = new_vm(demo_host)
    memory = vm_settings.read(vm).memory_kib // 1024
    snap = _finished(vm_snapshot_create(actor=operator, vm=vm, name="before-upgrade"))
    edit = _finished(
        vm_settings.vm_settings_change(
            actor=operator, vm=vm, **_settings(vm, memory_mib=memory - 64, title="web front end")
        )
    )
    assert (snap.status, edit.status) == ("succeeded", "succeeded")
    with pytest.raises(PermissionDenied):
        vm_power(actor=viewer, vm=vm, action="start")
    return SimpleNamespace(vm=vm, memory=memory, snap=snap)


def test_one_line_per_action_in_words(history, admin, operator, viewer, open_tab):
    vm, memory, snap = history.vm, history.memory, history.snap
    tab = open_tab(admin)
    page = tab.page
    tab.nav("Audit log")
    tab.wait_live()

    snapshot = page.locator("tr.audit-row[data-action='vm.snapshot_create']")
    expect(snapshot).to_have_count(1)
    expect(snapshot.locator(".audit-sentence")).to_have_text(f"took snapshot before-upgrade of VM {vm.name}")
    expect(tab.audit_cells(snapshot)["Outcome"]).to_contain_text("succeeded")

    settings = page.locator("tr.audit-row[data-action='vm.settings']")
    expect(settings).to_have_count(1)
    expect(settings.locator(".audit-sentence")).to_have_text(f"changed the settings of VM {vm.name}")
    changes = settings.locator(".audit-changes li")
    expect(changes).to_have_text(
        [f"Memory {memory} → {memory - 64} MiB", "Title “” → “web front end”"], ignore_case=False
    )
    expect(settings).not_to_contain_text("memory_mib")

    refused = page.locator("tr.audit-row[data-outcome='denied']").filter(has_text=vm.name)
    expect(refused.locator(".audit-sentence")).to_have_text(
        f"was refused: start, stop or pause VM {vm.name} (needs vm.power)"
    )
    expect(tab.audit_cells(refused)["User"]).to_contain_text(viewer.get_username())

    # Both records of each action are still in the log (and so in the export).
    assert AuditEvent.objects.filter(operation_id=snap.pk).count() == 2

    # The table stays in its column: nothing runs under the operations panel or off the page.
    table_box = page.locator("#audit-table .table-responsive").bounding_box()
    panel_box = page.locator("#ops-drawer").bounding_box()
    assert table_box["x"] + table_box["width"] <= panel_box["x"] + 1, (table_box, panel_box)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    # An action taken now shows as one line, "requested" and then, in place, how it ended.
    op_tab = open_tab(operator)
    op_tab.goto(f"/vms/{vm.pk}/")
    op_tab.wait_live()
    op_tab.page.locator(f"#vm-summary-{vm.pk}").get_by_role("button", name="Start").click()
    start = page.locator("tr.audit-row[data-action='vm.start']")
    expect(start.and_(page.locator("[data-outcome='succeeded']"))).to_have_count(1, timeout=20_000)
    expect(start).to_have_count(1)
    expect(start.locator(".audit-sentence")).to_have_text(f"started VM {vm.name}")

    tab.assert_quiet()
    op_tab.assert_quiet()
