"""The network pages: who sees which networks, what the forms refuse, and that nothing is
defined by a refused request. Rows are made directly; the worker path is in test_networks.py."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add
from apps.audit.models import AuditEvent
from apps.authz.models import Role
from apps.hosts.models import Host
from apps.network.models import VirtualNetwork
from apps.operations.models import Operation

pytestmark = [pytest.mark.django_db]


def _net(host, name, **kw):
    kw.setdefault("uuid", uuid.uuid4())
    return VirtualNetwork.objects.create(host=host, name=name, bridge=f"br-{name}"[:15], **kw)


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def hosts(db):
    return Host.objects.create(name="alpha", uri="test:///a"), Host.objects.create(name="beta", uri="test:///b")


def test_the_list_shows_what_the_user_may_see_with_attached_counts(hosts, admin, outsider):
    a, b = hosts
    one = _net(
        a, "lan", active=True, addresses=["10.1.0.1/24"], dhcp_ranges=[{"start": "10.1.0.10", "end": "10.1.0.20"}]
    )
    _net(b, "dmz")
    page = _client(admin).get(reverse("network:network_list")).content.decode()
    assert "lan" in page and "dmz" in page and "10.1.0.10 – 10.1.0.20" in page

    grant_add(actor=None, user=outsider, role=Role.objects.get(name="Viewer"), scope=one)
    page = _client(outsider).get(reverse("network:network_list")).content.decode()
    assert "lan" in page and "dmz" not in page


def test_a_network_one_may_not_see_answers_404_like_a_missing_one(hosts, outsider):
    net = _net(hosts[0], "lan")
    c = _client(outsider)
    assert c.get(reverse("network:network_detail", args=[net.pk])).status_code == 404
    assert c.get(reverse("network:network_detail", args=[net.pk + 1000])).status_code == 404


def test_a_viewer_cannot_change_a_network_and_the_refusal_is_audited(hosts, viewer):
    net = _net(hosts[0], "lan", active=True)
    c = _client(viewer)
    page = c.get(reverse("network:network_detail", args=[net.pk])).content.decode()
    assert "Read-only" in page and ">Stop<" not in page
    assert c.post(reverse("network:network_action", args=[net.pk, "stop"])).status_code == 403
    assert c.post(reverse("network:network_delete", args=[net.pk])).status_code == 403
    assert c.get(reverse("network:network_delete", args=[net.pk])).status_code == 403
    assert AuditEvent.objects.filter(actor=viewer, outcome="denied").count() == 3
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "bad/name"}, "name", ""),
        ({"name": "x", "bridge": "a-bridge-name-too-long"}, "bridge", "15"),
        ({"name": "x", "ipv4_address": "10.1.0.1", "ipv4_prefix": "24"}, "ipv4_address", "lan"),
        (
            {
                "name": "x",
                "ipv4_address": "10.9.0.1",
                "ipv4_prefix": "24",
                "dhcp_start": "10.8.0.5",
                "dhcp_end": "10.9.0.9",
            },
            "dhcp_start",
            "",
        ),
    ],
)
def test_bad_input_is_a_form_error_and_defines_nothing(hosts, admin, data, field, message):
    a = hosts[0]
    _net(a, "lan", addresses=["10.1.0.1/24"])
    response = _client(admin).post(reverse("network:network_new_mode", args=["isolated"]), {"host": a.pk, **data})
    assert response.status_code == 422
    form = response.context["form"]
    assert field in form.errors or any(field in e for e in form.errors), form.errors
    if message:
        assert message in " ".join(str(e) for e in form.errors.values())
    assert not Operation.objects.exists()


def test_a_good_form_queues_the_definition(hosts, admin):
    a = hosts[0]
    data = {"host": a.pk, "name": "lab", "bridge": "virbr-lab", "ipv4_address": "10.50.0.1", "ipv4_prefix": "24",
            "dhcp_start": "10.50.0.100", "dhcp_end": "10.50.0.200"}  # fmt: skip
    response = _client(admin).post(reverse("network:network_new_mode", args=["isolated"]), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    op = Operation.objects.get(kind="network.create")
    assert op.host_id == a.pk and op.target_name == "lab"
    assert "<name>lab</name>" in op.params["xml"] and 'start="10.50.0.100"' in op.params["xml"].replace("'", '"')


def test_an_operator_of_one_host_cannot_make_networks_on_another(hosts, outsider):
    a, b = hosts
    grant_add(actor=None, user=outsider, role=Role.objects.get(name="Operator"), scope=a)
    c = _client(outsider)
    response = c.post(reverse("network:network_new_mode", args=["isolated"]), {"host": b.pk, "name": "sneaky"})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.filter(actor=outsider, outcome="denied").exists()


def test_define_from_xml_refuses_dnsmasq_options_for_everyone_but_host_managers(hosts, outsider):
    a = hosts[0]
    grant_add(actor=None, user=outsider, role=Role.objects.get(name="Operator"), scope=a)
    xml = """<network xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0"><name>evil</name>
<dnsmasq:options><dnsmasq:option value="dhcp-script=/tmp/x"/></dnsmasq:options></network>"""
    response = _client(outsider).post(reverse("network:network_new_xml"), {"host": a.pk, "xml": xml})
    assert response.status_code == 422
    assert "dnsmasq" in response.content.decode()
    assert not Operation.objects.exists()


# -- editing the XML ------------------------------------------------------------------------------

LAN_UUID = "0d7c1a9e-5b1f-4d8e-9c57-2f1e6a3b4c5d"


def _lan_xml(name="lan", uuid_text=LAN_UUID, dhcp_end="10.1.0.150", extra=""):
    uuid_line = f"<uuid>{uuid_text}</uuid>" if uuid_text else ""
    return f"""<network><name>{name}</name>{uuid_line}<bridge name="virbr-lan"/>
<ip address="10.1.0.1" prefix="24"><dhcp><range start="10.1.0.100" end="{dhcp_end}"/></dhcp></ip>{extra}</network>"""


@pytest.fixture
def lan(hosts):
    return _net(hosts[0], "lan", uuid=LAN_UUID, active=True, addresses=["10.1.0.1/24"])


def test_a_good_xml_edit_queues_network_edit(lan, admin):
    url = reverse("network:network_xml", args=[lan.pk])
    response = _client(admin).post(url, {"xml": _lan_xml(dhcp_end="10.1.0.120")})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert response.url == reverse("network:network_detail", args=[lan.pk])
    op = Operation.objects.get()
    assert (op.kind, op.target_id, op.host_id) == ("network.edit", str(lan.pk), lan.host_id)
    assert 'end="10.1.0.120"' in op.params["xml"].replace("'", '"')
    # Without a <uuid> libvirt finds the network by its name: the same network, accepted.
    assert _client(admin).post(url, {"xml": _lan_xml(uuid_text="")}).status_code == 302


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<network><name>lan</name>", "does not read"),
        ("<domain><name>lan</name></domain>", "<domain>"),
        (_lan_xml(dhcp_end="10.2.0.150"), "10.2.0.150"),
        (_lan_xml(name="lan2"), "Keep the name lan"),
        (_lan_xml(name="lan2", uuid_text=""), "Keep the name lan"),
        (_lan_xml(uuid_text="11111111-2222-4333-8444-555555555555"), "Keep the UUID"),
        (_lan_xml(extra='<dnsmasq:options xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0"/>'), "dnsmasq"),
    ],
    ids=["unreadable", "not-a-network", "range-outside-subnet", "renamed", "renamed-without-uuid", "other-uuid",
         "dnsmasq-options"],
)  # fmt: skip
def test_a_bad_xml_edit_is_a_form_error_and_queues_nothing(lan, operator, xml, message):
    response = _client(operator).post(reverse("network:network_xml", args=[lan.pk]), {"xml": xml})
    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors.get("xml", []))
    assert message in errors, errors
    assert message in response.content.decode().replace("&lt;", "<").replace("&gt;", ">")
    assert not Operation.objects.exists()


def test_a_viewer_cannot_post_an_xml_edit(lan, viewer):
    response = _client(viewer).post(reverse("network:network_xml", args=[lan.pk]), {"xml": _lan_xml()})
    assert response.status_code == 403
    assert not Operation.objects.exists()


# -- deleting -------------------------------------------------------------------------------------


@pytest.fixture
def in_use(lan):
    """VMs web and db run on lan, idle is shut off on it, other runs on another network."""
    from apps.compute.models import VirtualMachine
    from apps.network.models import Port

    vms = {}
    for n, (name, state, source) in enumerate(
        [("web", "running", "lan"), ("db", "paused", "lan"), ("idle", "shutoff", "lan"), ("other", "running", "x")]
    ):
        vm = VirtualMachine.objects.create(host=lan.host, uuid=uuid.uuid4(), name=name, state=state)
        Port.objects.create(vm=vm, host=lan.host, mac=f"52:54:00:20:00:{n:02x}", kind="network", source=source)
        vms[name] = vm
    return vms


def _delete_page(response):
    page = response.content.decode()
    return page[page.index('id="network-delete-form"') :]


def test_deleting_a_network_running_vms_use_answers_409_with_their_names(lan, in_use, operator):
    url = reverse("network:network_delete", args=[lan.pk])
    c = _client(operator)
    asked = _delete_page(c.get(url))
    assert "These running VMs use it" in asked and 'name="stop_vms"' in asked

    response = c.post(url)
    assert response.status_code == 409
    refusal = response.content.decode()
    alert = refusal[refusal.index("network-refusal") :]
    alert = alert[: alert.index("</div>")]
    assert "db, web" in alert and "idle" not in alert and "other" not in alert
    form = _delete_page(response)
    for name in ("web", "db"):
        assert f'href="{reverse("compute:vm_detail", args=[in_use[name].pk])}"' in form
    assert "idle" not in form and 'type="checkbox" name="stop_vms" value="1"' in form
    assert not Operation.objects.exists()

    response = c.post(url, {"stop_vms": "1"})
    assert response.status_code == 302 and response.url == reverse("network:network_list")
    op = Operation.objects.get()
    assert (op.kind, op.target_id, op.params) == ("network.delete", str(lan.pk), {"stop_vms": True})


def test_forcing_vms_off_takes_the_right_to_power_them(lan, in_use, outsider):
    grant_add(actor=None, user=outsider, role=Role.objects.get_or_create(
        name="Net admin", defaults={"permissions": ["network.view", "network.manage"]})[0], scope=lan)  # fmt: skip
    response = _client(outsider).post(reverse("network:network_delete", args=[lan.pk]), {"stop_vms": "1"})
    assert response.status_code == 403
    assert not Operation.objects.exists()
    assert AuditEvent.objects.filter(actor=outsider, outcome="denied").exists()


def test_a_network_no_running_vm_uses_is_deleted_without_asking_about_vms(lan, operator):
    url = reverse("network:network_delete", args=[lan.pk])
    assert 'name="stop_vms"' not in _delete_page(_client(operator).get(url))
    assert _client(operator).post(url).status_code == 302
    assert Operation.objects.get().params == {"stop_vms": False}


# -- the list's cost ------------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_for_5_or_50_networks(hosts, operator, outsider):
    """Attached counts, lease counts and each row's rights come from a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.compute.models import VirtualMachine
    from apps.network.models import Port

    a, b = hosts
    grant_add(actor=None, user=outsider, role=Role.objects.get(name="Viewer"), scope=a)
    counts = {}
    for total in (5, 50):
        for i in range(VirtualNetwork.objects.count(), total):
            host = a if i % 2 else b
            net = _net(
                host, f"n{i}", leases=[{"mac": f"52:54:00:30:00:{i:02x}", "ip": "", "hostname": "", "expires": 0}]
            )
            vm = VirtualMachine.objects.create(host=host, uuid=uuid.uuid4(), name=f"vm{i}", state="running")
            Port.objects.create(vm=vm, host=host, mac=f"52:54:00:30:00:{i:02x}", kind="network", source=net.name)
        for user in (operator, outsider):
            for params in ({}, {"host": a.pk}):
                with CaptureQueriesContext(connection) as queries:
                    response = _client(user).get(reverse("network:network_list"), params)
                assert response.status_code == 200
                counts.setdefault((user.username, str(params)), []).append(len(queries))
        page = _client(operator).get(reverse("network:network_list")).content.decode()
        assert page.count('class="network-row"') == total
    assert all(small == large for small, large in counts.values()), counts
