"""The NIC form offers the libvirt networks of the VM's host that the user may plug a VM into
(network.use or network.manage, on the network or on its host): not one they may only see, not
one they hold no right on, and never one of another host."""

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, user_create
from apps.authz.models import Role
from apps.hosts.models import Host
from apps.network.models import VirtualNetwork
from tests.conftest import PASSWORD
from tests.helpers import make_vm, unique

pytestmark = [pytest.mark.django_db]


def _net(host, name, **kw):
    kw.setdefault("active", True)
    return VirtualNetwork.objects.create(host=host, uuid=uuid.uuid4(), name=name, **kw)


def _role(name, perms):
    return Role.objects.get_or_create(name=name, defaults={"permissions": perms})[0]


def _choices(user, vm):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("compute:vm_nics", args=[vm.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    select = re.search(r'<select[^>]*id="nic-network"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the NIC form's network list"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


@pytest.fixture
def nets(demo_host):
    """On demo: mine (network.use), seen (network.view only), locked (no grant), off (network.use,
    stopped). On beta: far (network.use too)."""
    beta = Host.objects.create(name="beta", uri="test:///beta")
    tag = unique("")[1:7]
    return {
        "mine": _net(demo_host, f"mine-{tag}"),
        "seen": _net(demo_host, f"seen-{tag}"),
        "locked": _net(demo_host, f"locked-{tag}"),
        "off": _net(demo_host, f"off-{tag}", active=False),
        "far": _net(beta, f"far-{tag}"),
    }


def test_a_vm_editor_is_offered_only_the_networks_of_the_host_they_may_use(demo_host, nets):
    vm = make_vm(demo_host)
    user, _ = user_create(actor=None, username=unique("editor"), password=PASSWORD)
    grant_add(actor=None, user=user, role=_role("VM editor", ["vm.view", "vm.edit"]), scope=vm)
    user_role = _role("Network user", ["network.use"])
    for key in ("mine", "off", "far"):
        grant_add(actor=None, user=user, role=user_role, scope=nets[key])
    grant_add(actor=None, user=user, role=Role.objects.get(name="Viewer"), scope=nets["seen"])

    choices = _choices(user, vm)
    assert sorted(choices) == sorted(
        [(nets["mine"].name, nets["mine"].name), (nets["off"].name, f"{nets['off'].name} (inactive)")]
    )


def test_network_manage_on_one_network_offers_it_and_on_the_host_offers_them_all(demo_host, nets, operator):
    vm = make_vm(demo_host)
    user, _ = user_create(actor=None, username=unique("netadmin"), password=PASSWORD)
    grant_add(actor=None, user=user, role=_role("VM editor", ["vm.view", "vm.edit"]), scope=vm)
    grant_add(actor=None, user=user, role=_role("Net admin", ["network.view", "network.manage"]), scope=nets["locked"])
    assert [name for name, _ in _choices(user, vm)] == [nets["locked"].name]

    # The Operator holds network.use everywhere: every network of demo, none of beta.
    offered = {name for name, _ in _choices(operator, vm)}
    demo_nets = set(VirtualNetwork.objects.filter(host=demo_host, present=True).values_list("name", flat=True))
    assert offered == demo_nets
    assert {nets[k].name for k in ("mine", "seen", "locked", "off")} <= offered
    assert nets["far"].name not in offered


def test_a_user_who_may_use_no_network_of_the_host_is_offered_none(demo_host, nets):
    vm = make_vm(demo_host)
    user, _ = user_create(actor=None, username=unique("editor"), password=PASSWORD)
    grant_add(actor=None, user=user, role=_role("VM editor", ["vm.view", "vm.edit"]), scope=vm)
    grant_add(actor=None, user=user, role=_role("Network user", ["network.use"]), scope=nets["far"])
    assert [value for value, _ in _choices(user, vm)] == [""]  # only the "none" line
