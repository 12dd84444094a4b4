"""VM settings on the worker: vCPUs, memory, boot, autostart, title and description
(services/settings.py queues them with the changes the form made)."""

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, xmledit
from apps.compute.virt import settings as virt
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.runners import runner


@runner("vm.settings", permission="vm.edit", target=VirtualMachine, related=["host"])
def settings(op, vm):
    changes = {k: v["after"] for k, v in op.params["changes"].items()}
    uuid, done, row = str(vm.uuid), [], {}
    with connection.connected(vm.host.uri) as conn:
        current = virt.read(conn, uuid)  # again: the VM may have started or stopped since the form
        if {"vcpus", "max_vcpus", "vcpus_saved"} & changes.keys():
            wanted = changes.get("vcpus", changes.get("vcpus_saved", current.live_vcpus or current.vcpus))
            maximum = changes.get("max_vcpus", current.max_vcpus)
            done.append(virt.set_vcpus(conn, uuid, vcpus=wanted, max_vcpus=maximum, current=current))
        if {"memory_mib", "max_memory_mib", "memory_saved_mib"} & changes.keys():
            live_now = (current.live_memory_kib if current.running else current.memory_kib) // 1024
            wanted = changes.get("memory_mib", changes.get("memory_saved_mib", live_now))
            maximum = changes.get("max_memory_mib", current.max_memory_kib // 1024)
            current = virt.read(conn, uuid)  # after the vCPU change, for the memory's own "before"
            done.append(
                virt.set_memory(conn, uuid, memory_kib=wanted * 1024, max_memory_kib=maximum * 1024, current=current)
            )
        if "boot" in changes or "bootmenu" in changes:
            boot = changes.get("boot", current.boot)
            menu = changes.get("bootmenu", current.bootmenu)
            xml = virt.boot_xml(xmledit.secure_inactive(conn, uuid), boot=boot, bootmenu=menu)
            xmledit.redefine(conn, uuid, xml)
            note = " (per-device boot order replaced)" if current.device_boot_order else ""
            done.append(f"boot order {', '.join(boot)}, boot menu {'on' if menu else 'off'} from the next boot{note}")
        if "autostart" in changes:
            virt.set_autostart(conn, uuid, changes["autostart"])
            row["autostart"] = changes["autostart"]
            done.append(f"autostart {'on' if changes['autostart'] else 'off'}")
        if "title" in changes or "description" in changes:
            virt.set_metadata(
                conn, uuid, title=changes.get("title"), description=changes.get("description"), running=current.running
            )
            row |= {k: changes[k] for k in ("title", "description") if k in changes}
            done.append(" and ".join(k for k in ("title", "description") if k in changes) + " set")
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
    if row:  # fields the inventory mirror does not follow
        VirtualMachine.objects.filter(pk=vm.pk).update(**row)
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="settings")
    return f"{vm.name}: " + "; ".join(d for d in done if d)

