"""Who is connected now: a console opening or closing tells the open pages of the VM's host to
re-read their "Connected now" list (hx-trigger="kv:consoles-<vm> from:body")."""

from apps.authz.rights import may
from apps.compute.models import VirtualMachine
from apps.core import realtime


def publish_sessions_changed(vm):
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "consoles", vm=vm.pk)


@realtime.register_renderer("consoles")
def render_sessions_changed(user, event):
    vm = VirtualMachine.objects.select_related("host").filter(pk=event["vm"]).first()
    if vm is None or not may(user, "vm.view", vm):
        return ""
    return realtime.signal(f"consoles-{vm.pk}")
