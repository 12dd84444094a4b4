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
    return VirtualNetwork.objects.create(host=host, uuid=uuid.uuid4(), name=name, bridge=f"br-{name}"[:15], **kw)


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
