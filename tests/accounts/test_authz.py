"""Grants: users and teams, scopes inherited downward, custom roles, and the services that change them."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.accounts import services
from apps.accounts.models import Team
from apps.audit.models import AuditEvent
from apps.authz.models import Role
from apps.authz.rights import authorize, may, rights
from apps.compute.selectors import vms_visible
from apps.hosts.services import host_create
from tests.conftest import PASSWORD
from tests.helpers import make_vm


@pytest.fixture
def bob(db):
    return services.user_create(actor=None, username="bob", password=PASSWORD)[0]


def test_a_team_grant_reaches_its_members(demo_host, bob, admin):
    vm = make_vm(demo_host)
    team = services.team_create(actor=admin, name="web")
    services.grant_add(actor=admin, team=team, role="Operator", scope=demo_host)
    assert not may(bob, "vm.power", vm)
    services.team_member_add(actor=admin, team=team, user=bob)
    assert may(bob, "vm.power", vm)
    services.team_member_remove(actor=admin, team=team, user=bob)
    assert not may(bob, "vm.power", vm)


def test_a_host_grant_covers_its_vms_and_no_other_host(demo_host, bob):
    other = host_create(actor=None, name="other", uri="qemu+ssh://root@hv2.example.com/system")  # never connected
    mine, theirs = make_vm(demo_host), make_vm(other)
    services.grant_add(actor=None, user=bob, role="Viewer", scope=demo_host)
    assert may(bob, "vm.view", mine) and not may(bob, "vm.view", theirs)
    assert not may(bob, "vm.power", mine)
    assert list(vms_visible(bob)) == [mine]


def test_a_vm_grant_is_just_that_vm(demo_host, bob):
    vm, other_vm = make_vm(demo_host), make_vm(demo_host)
    services.grant_add(actor=None, user=bob, role="VM user", scope=vm)
    assert may(bob, "vm.power", vm) and may(bob, "vm.console", vm)
    assert not may(bob, "vm.view", other_vm) and not may(bob, "vm.delete", vm)
    assert {v.pk for v in vms_visible(bob)} == {vm.pk}


def test_rights_answer_rows_in_memory(demo_host, bob, django_assert_num_queries):
    vms = [make_vm(demo_host) for _ in range(5)]
    services.grant_add(actor=None, user=bob, role="VM user", scope=vms[0])
    with django_assert_num_queries(1):
        power = rights(bob, "vm.power")
        allowed = [power.allows(vm) for vm in vms]
    assert allowed == [True, False, False, False, False]


def test_custom_role_and_builtin_roles_are_immutable(admin, bob, demo_host):
    role = services.role_create(actor=admin, name="Snapshotter", permissions=["vm.view", "vm.snapshot"])
    services.grant_add(actor=admin, user=bob, role=role)
    assert may(bob, "vm.snapshot", make_vm(demo_host))
    with pytest.raises(services.AccountError, match="Built-in"):
        services.role_update(actor=admin, role=Role.objects.get(name="Viewer"), permissions=["vm.power"])
    with pytest.raises(services.AccountError, match="Unknown permissions"):
        services.role_create(actor=admin, name="Bad", permissions=["vm.fly"])
    with pytest.raises(services.AccountError, match="still granted"):
        services.role_delete(actor=admin, role=role)


def test_only_user_managers_change_rights_and_refusals_are_audited(operator, bob):
    with pytest.raises(PermissionDenied):
        services.grant_add(actor=operator, user=bob, role="Administrator")
    assert not bob.grants.exists()
    assert AuditEvent.objects.filter(actor=operator, outcome="denied", params__permission="user.manage").exists()


def test_permission_changes_are_audited(admin, bob):
    services.grant_add(actor=admin, user=bob, role="Auditor")
    event = AuditEvent.objects.filter(action="grant.add").latest("id")
    assert event.actor == admin and event.params == {"to": "user bob", "role": "Auditor", "scope": "everything"}
    services.grant_remove(actor=admin, grant=bob.grants.get())
    assert AuditEvent.objects.filter(action="grant.remove", actor=admin).exists()


def test_unknown_permission_names_fail_loudly(bob):
    with pytest.raises(KeyError):
        authorize(bob, "vm.fly")


def test_logout_everywhere_ends_other_sessions(admin, bob):
    other = Client()
    assert other.login(username="bob", password=PASSWORD)
    assert other.get(reverse("compute:vm_list")).status_code == 200
    services.user_logout_everywhere(actor=admin, user=bob)
    assert other.get(reverse("compute:vm_list")).status_code == 302


def test_deactivating_a_user_ends_their_sessions(admin, bob):
    page = reverse("compute:vm_list")
    other = Client()
    assert other.login(username="bob", password=PASSWORD)
    assert other.get(page).status_code == 200  # the session works before
    services.user_update(actor=admin, user=bob, is_active=False)
    response = other.get(page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Client().login(username="bob", password=PASSWORD)  # nor can bob log in again
    # Ended, not only refused while bob is inactive: once reactivated, the old session still is
    # logged out, and a new login works.
    services.user_update(actor=admin, user=bob, is_active=True)
    assert other.get(page).status_code == 302
    assert Client().login(username="bob", password=PASSWORD)


def test_admin_builds_a_team_and_grants_through_the_pages(client, admin, bob, demo_host):
    vm = make_vm(demo_host)
    client.force_login(admin)
    client.post(reverse("accounts:team_list"), {"name": "blue", "description": "web team"})
    team = Team.objects.get(name="blue")
    client.post(reverse("accounts:team_member", args=[team.pk, "add"]), {"user": bob.pk})
    vm_user = Role.objects.get(name="VM user")
    client.post(reverse("accounts:grant_add", args=["team", team.pk]), {"role": vm_user.pk, "scope": f"vm:{vm.pk}"})
    assert may(bob, "vm.power", vm)
    page = client.get(reverse("accounts:user_detail", args=[bob.pk])).content.decode()
    assert "team blue" in page and "VM user" in page


def test_the_user_form_refuses_bad_names_and_weak_passwords(client, admin):
    client.force_login(admin)
    page = client.post(reverse("accounts:user_list"), {"username": "bad name<", "password": "123"}).content.decode()
    assert "Use only letters" in page and "too short" in page
    assert not admin.__class__.objects.filter(username="bad name<").exists()
