"""Virtual networks through the whole path on the test driver: the service queues, the worker
defines, starts, stops, updates and deletes through libvirt, the monitor and the runners keep the
inventory, and the rows say what libvirt says. Rights and refusals too."""

import pytest
from django.core.exceptions import PermissionDenied

from apps.accounts.services import grant_add, user_create
from apps.audit.models import AuditEvent
from apps.authz.models import Role
from apps.compute.models import VirtualMachine
from apps.compute.services import nics as nic_services
from apps.hosts.virt import connection
from apps.network.models import Port, VirtualNetwork
from apps.network.services import networks as services
from tests.conftest import PASSWORD
from tests.helpers import TEST_URI, define_test_domain, finished, unique, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]


def isolated_xml(name, third=77):
    return f"""<network>
  <name>{name}</name>
  <bridge name="kv{name[-8:]}"/>
  <ip address="10.{third}.0.1" prefix="24">
    <dhcp>
      <range start="10.{third}.0.100" end="10.{third}.0.199"/>
    </dhcp>
  </ip>
</network>
"""


def _ok(op):
    op = finished(op)
    assert op.status == "succeeded", op.error or op.message
    return op


def _row(host, name):
    return VirtualNetwork.objects.filter(host=host, name=name, present=True).first()


@pytest.fixture
def made(test_driver):
    """Names of networks the test makes on the shared test driver, removed after it."""
    names = []
    yield names
    for name in names:
        try:
            net = test_driver.networkLookupByName(name)
        except Exception:  # noqa: BLE001 — already gone
            continue
        if net.isActive():
            net.destroy()
        net.undefine()


def test_a_network_is_defined_started_and_kept_by_the_worker(stack, demo_host, operator, made):
    name = unique("net")
    made.append(name)
    op = _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name)))
    net = _row(demo_host, name)
    assert str(net.pk) == op.target_id
    assert (net.forward_mode, net.active, net.autostart, net.persistent) == ("isolated", True, True, True)
    assert net.addresses == ["10.77.0.1/24"]
    assert net.dhcp_ranges == [{"start": "10.77.0.100", "end": "10.77.0.199"}]
    actions = list(AuditEvent.objects.filter(target_type="network", target_name=name).values_list("action", "outcome"))
    assert ("network.create", "requested") in actions and ("network.create", "succeeded") in actions

    _ok(services.network_action(actor=operator, network=net, action="stop"))
    _ok(services.network_action(actor=operator, network=net, action="autostart_off"))
    net.refresh_from_db()
    assert (net.active, net.autostart) == (False, False)
    with connection.connected(TEST_URI) as conn:
        libvirt_net = conn.networkLookupByName(name)
        assert not libvirt_net.isActive() and not libvirt_net.autostart()

    _ok(services.network_delete(actor=operator, network=net))
    net.refresh_from_db()
    assert not net.present


def test_a_refusal_of_libvirt_fails_the_operation_in_its_words_and_leaves_nothing(stack, demo_host, operator, made):
    name = unique("net")
    made.append(name)
    bad = isolated_xml(name).replace('prefix="24"', 'prefix="24" netmask="255.255.255.0"')
    op = finished(services.network_create(actor=operator, host=demo_host, name=name, xml=bad))
    assert op.status == "failed"
    assert "cannot have both a prefix and a netmask" in op.error, op.error  # libvirt's own words
    assert _row(demo_host, name) is None
    with connection.connected(TEST_URI) as conn:
        assert name not in conn.listNetworks() + conn.listDefinedNetworks()


def test_changes_made_outside_kvmweb_reach_the_inventory_by_event(stack, demo_host, test_driver, made):
    name = unique("net")
    made.append(name)
    wait_for(lambda: _row(demo_host, "default"), message="the host's networks read at connect")
    libvirt_net = test_driver.networkDefineXML(isolated_xml(name, third=78))
    row = wait_for(lambda: _row(demo_host, name), message="the new network seen")
    assert not row.active
    libvirt_net.create()
    wait_for(lambda: _row(demo_host, name).active, message="its start seen")
    libvirt_net.destroy()
    libvirt_net.undefine()
    wait_for(lambda: _row(demo_host, name) is None, message="its removal seen")


def test_a_static_dhcp_host_is_added_and_removed_live(stack, demo_host, operator, made):
    from apps.network.forms.dhcp import DhcpHostForm

    name = unique("net")
    made.append(name)
    _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name, third=79)))
    net = _row(demo_host, name)
    form = DhcpHostForm(
        {"mac": "52:54:00:AA:00:01", "ip": "10.79.0.10", "name": "web1"}, subnet_cidrs=net.addresses, existing=[]
    )
    assert form.is_valid(), form.errors
    _ok(services.network_update(actor=operator, network=net, section="dhcp_host", command="add", xml=form.to_xml()))
    net.refresh_from_db()
    assert net.dhcp_hosts == [{"mac": "52:54:00:aa:00:01", "ip": "10.79.0.10", "name": "web1"}]
    with connection.connected(TEST_URI) as conn:
        assert "52:54:00:aa:00:01" in conn.networkLookupByName(name).XMLDesc(0).lower()

    _ok(services.network_update(actor=operator, network=net, section="dhcp_host", command="delete", xml=form.to_xml()))
    net.refresh_from_db()
    assert net.dhcp_hosts == []


def test_deleting_a_network_running_vms_use_is_refused_with_their_names(stack, demo_host, operator, made):
    name = unique("net")
    made.append(name)
    _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name, third=80)))
    dom_uuid = define_test_domain(unique("vm"), start=True, networks=[name])
    vm = wait_for(lambda: VirtualMachine.objects.filter(uuid=dom_uuid, state="running").first(), message="the VM")
    net = wait_for(lambda: VirtualNetwork.objects.filter(pk=_row(demo_host, name).pk).first(), message="row")
    wait_for(lambda: Port.objects.filter(vm=vm, kind="network", source=name).exists(), message="its NIC as a port")

    with pytest.raises(services.NetworkError, match=vm.name):
        services.network_delete(actor=operator, network=net)
    assert _row(demo_host, name) is not None

    # Who may manage the network but not power the VM cannot have it forced off.
    net_admin = _user_with("Network admin", ["network.view", "network.manage"], on=net)
    with pytest.raises(PermissionDenied):
        services.network_delete(actor=net_admin, network=net, stop_vms=True)
    assert _row(demo_host, name) is not None and VirtualMachine.objects.get(pk=vm.pk).state == "running"

    _ok(services.network_delete(actor=operator, network=net, stop_vms=True))
    assert _row(demo_host, name) is None
    wait_for(lambda: VirtualMachine.objects.get(pk=vm.pk).state == "shutoff", message="the VM forced off")


def _user_with(role_name, perms, *, on):
    role, _ = Role.objects.get_or_create(name=role_name, defaults={"permissions": perms})
    user, _ = user_create(actor=None, username=unique("u"), password=PASSWORD)
    grant_add(actor=None, user=user, role=role, scope=on)
    return user


def test_a_nic_on_a_network_takes_the_right_to_use_that_network(stack, demo_host, operator, made):
    """Seeing a network is not plugging a VM into it: network.use on that network (or its host)."""
    mine, theirs = unique("net"), unique("net")
    made += [mine, theirs]
    _ok(services.network_create(actor=operator, host=demo_host, name=mine, xml=isolated_xml(mine, third=81)))
    _ok(services.network_create(actor=operator, host=demo_host, name=theirs, xml=isolated_xml(theirs, third=82)))
    dom_uuid = define_test_domain(unique("vm"))
    vm = wait_for(lambda: VirtualMachine.objects.filter(uuid=dom_uuid).first(), message="the VM")
    user = _user_with("VM editor", ["vm.view", "vm.edit", "network.view"], on=vm)
    grant_add(actor=None, user=user, role=Role.objects.get(name="Viewer"), scope=_row(demo_host, theirs))
    grant_add(
        actor=None,
        user=user,
        role=Role.objects.get_or_create(name="Network user", defaults={"permissions": ["network.use"]})[0],
        scope=_row(demo_host, mine),
    )

    with pytest.raises(PermissionDenied):
        nic_services.vm_nic_add(actor=user, vm=vm, kind="network", source=theirs, config=True, live=False)
    assert AuditEvent.objects.filter(actor=user, outcome="denied").exists()
    # Allowed in the request and again on the worker, which then reaches libvirt (the test driver
    # cannot attach devices; tests/real/test_qemu_networks.py attaches one on QEMU).
    op = finished(nic_services.vm_nic_add(actor=user, vm=vm, kind="network", source=mine, config=True, live=False))
    assert "not supported by the connection driver" in op.error


def test_ranges_dns_hosts_and_portgroups_change_live_from_the_page(stack, demo_host, operator, made):
    from django.test import Client
    from django.urls import reverse

    from apps.operations.models import Operation

    name = unique("net")
    made.append(name)
    _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name, third=83)))
    net = _row(demo_host, name)
    client = Client()
    client.force_login(operator)

    def post(section, data):
        url = reverse("network:network_live", args=[net.pk, section])
        return client.post(url, {f"{section}-{k}": v for k, v in data.items()}, HTTP_HX_REQUEST="true")

    # Refused with the reason, nothing queued: a range outside the subnet, a bad DNS name.
    response = post("dhcp_range", {"start": "10.84.0.10", "end": "10.84.0.20"})
    assert response.status_code == 422 and "outside the subnet 10.83.0.0/24" in response.content.decode()
    assert post("dns_host", {"ip": "10.83.0.5", "hostnames": "bad_name!"}).status_code == 422

    assert post("dhcp_range", {"start": "10.83.0.20", "end": "10.83.0.29"}).status_code == 200
    assert post("dns_host", {"ip": "10.83.0.5", "hostnames": "db db.lab"}).status_code == 200
    assert post("portgroup", {"name": "web", "vlan": "", "default": ""}).status_code == 200
    # The three run side by side on the worker and may end in any order: wait for all of them.
    updates = Operation.objects.filter(kind="network.update", target_id=str(net.pk))
    wait_for(lambda: updates.filter(finished_at__isnull=False).count() == 3, message="the three changes done")
    assert set(updates.values_list("status", flat=True)) == {"succeeded"}
    net.refresh_from_db()
    assert {"start": "10.83.0.20", "end": "10.83.0.29"} in net.dhcp_ranges
    assert net.dns_hosts == [{"ip": "10.83.0.5", "hostnames": ["db", "db.lab"]}]
    assert [p["name"] for p in net.portgroups] == ["web"]
    with connection.connected(TEST_URI) as conn:
        assert "db.lab" in conn.networkLookupByName(name).XMLDesc(0)

    url = reverse("network:network_live", args=[net.pk, "dns_host"])
    assert client.post(url, {"remove": "10.83.0.5"}, HTTP_HX_REQUEST="true").status_code == 204
    removal = updates.latest("pk")
    assert "removed" in removal.params["summary"]
    assert _ok(removal).status == "succeeded"  # its outcome is recorded after the row is written
    assert VirtualNetwork.objects.get(pk=net.pk).dns_hosts == []
    actions = AuditEvent.objects.filter(target_type="network", action="network.update", outcome="succeeded")
    assert actions.count() == 4


def test_autostart_is_turned_off_and_on_from_the_page(stack, demo_host, operator, made):
    from django.test import Client
    from django.urls import reverse

    from apps.operations.models import Operation

    name = unique("net")
    made.append(name)
    _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name, third=85)))
    net = _row(demo_host, name)
    client = Client()
    client.force_login(operator)

    for action, expected in (("autostart_off", False), ("autostart_on", True)):
        response = client.post(reverse("network:network_action", args=[net.pk, action]), HTTP_HX_REQUEST="true")
        assert response.status_code == 204
        _ok(Operation.objects.filter(kind=f"network.{action}", target_id=str(net.pk)).latest("pk"))
        assert VirtualNetwork.objects.get(pk=net.pk).autostart is expected
        with connection.connected(TEST_URI) as conn:
            assert bool(conn.networkLookupByName(name).autostart()) is expected
        page = client.get(reverse("network:network_detail", args=[net.pk])).content.decode()
        assert ("Autostart on<" in page) is not expected and ("Autostart off<" in page) is expected

    assert client.post(reverse("network:network_action", args=[net.pk, "autostart_sideways"])).status_code == 404


def test_an_edit_that_names_another_network_defines_nothing(stack, demo_host, operator, made):
    """The worker checks it too (the service is not the only way an operation is queued): before
    the fix libvirt defined a second network under the new name and the edit failed after it."""
    from django.db import transaction

    from apps.operations.services import operation_queue

    name, other = unique("net"), unique("net")
    made += [name, other]
    _ok(services.network_create(actor=operator, host=demo_host, name=name, xml=isolated_xml(name, third=86)))
    net = _row(demo_host, name)
    with transaction.atomic():
        op = operation_queue(
            actor=operator, kind="network.edit", target=net, params={"xml": isolated_xml(other, third=87)}
        )
    op = finished(op)
    assert op.status == "failed" and f"Keep the name {name}" in op.error, op.error
    with connection.connected(TEST_URI) as conn:
        assert other not in conn.listNetworks() + conn.listDefinedNetworks()
    assert _row(demo_host, other) is None
