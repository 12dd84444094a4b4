"""Team and role names follow one rule whoever calls the service: the forms and the services
(which the API and management commands call without a form) refuse the same names."""

import pytest

from apps.accounts import services
from apps.accounts.forms import RoleForm, TeamForm
from apps.accounts.models import Team
from apps.audit.models import AuditEvent
from apps.authz.models import Role

pytestmark = [pytest.mark.django_db]

BAD_NAMES = [
    pytest.param("blue\nteam", id="newline"),
    pytest.param("blue\r\nteam", id="crlf"),
    pytest.param("blue\tteam", id="tab"),
    pytest.param("blue\x00team", id="nul"),
    pytest.param("blue\u200bteam", id="zero-width"),
    pytest.param(" blue", id="leading-blank"),
    pytest.param("blue ", id="trailing-blank"),
    pytest.param(".", id="dot"),
    pytest.param("..", id="dotdot"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_team_create_refuses_a_name_the_form_refuses(admin, name):
    assert not TeamForm({"name": name}).is_valid()
    with pytest.raises(services.AccountError):
        services.team_create(actor=None, name=name)
    with pytest.raises(services.AccountError):
        services.team_create(actor=admin, name=name)
    assert not Team.objects.exists()
    assert not AuditEvent.objects.filter(action="team.create").exists()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_role_create_refuses_a_name_the_form_refuses(admin, name):
    roles = Role.objects.count()
    assert not RoleForm({"name": name, "permissions": ["vm.view"]}).is_valid()
    with pytest.raises(services.AccountError):
        services.role_create(actor=None, name=name, permissions=["vm.view"])
    with pytest.raises(services.AccountError):
        services.role_create(actor=admin, name=name, permissions=["vm.view"])
    assert Role.objects.count() == roles
    assert not AuditEvent.objects.filter(action="role.create").exists()


def test_a_team_cannot_be_renamed_to_a_name_with_a_line_break(admin):
    team = services.team_create(actor=admin, name="blue")
    with pytest.raises(services.AccountError, match="line breaks"):
        services.team_update(actor=None, team=team, name="blue\nred")
    team.refresh_from_db()
    assert team.name == "blue"
    assert not AuditEvent.objects.filter(action="team.update").exists()


def test_the_refusal_says_what_to_change():
    with pytest.raises(services.AccountError, match="no line breaks"):
        services.team_create(actor=None, name="a\nb")
    with pytest.raises(services.AccountError, match="blanks at the start or end"):
        services.role_create(actor=None, name="ops ", permissions=[])
    with pytest.raises(services.AccountError, match="more than dots"):
        services.role_create(actor=None, name="..", permissions=[])


@pytest.mark.parametrize("name", ["blue", "Blue team", "Équipe réseau", "ops-2.eu", "net.admins"])
def test_ordinary_names_are_accepted_by_both(admin, name):
    assert TeamForm({"name": name}).is_valid()
    team = services.team_create(actor=admin, name=name)
    assert team.name == name
    role = services.role_create(actor=admin, name=name, permissions=["vm.view"])
    assert role.name == name


def test_the_team_page_refuses_a_name_with_a_line_break_as_a_form_error(admin):
    from django.test import Client
    from django.urls import reverse

    services.team_create(actor=admin, name="blue")
    client = Client()
    client.force_login(admin)
    response = client.post(reverse("accounts:team_list"), {"name": "blue\nred"})
    assert response.status_code == 200
    assert "line breaks" in response.content.decode()
    assert list(Team.objects.values_list("name", flat=True)) == ["blue"]
