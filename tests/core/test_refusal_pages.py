"""Refusals and empty lists as the views answer them: the error page in the app's layout with
the missing right and who can grant it, a hidden object answering exactly like a missing one,
filter values the user may not use dropped with a note, and an account with no grants told so."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import grant_add, user_create
from apps.authz.granters import granters, read_only_reason
from apps.authz.models import Role
from apps.compute.filters import DROPPED_HOST, VMListFilter
from apps.hosts.models import Host
from tests.conftest import PASSWORD
from tests.helpers import make_vm

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _user(name, role=None, scope=None):
    user, _ = user_create(actor=None, username=name, password=PASSWORD)
    if role:
        grant_add(actor=None, user=user, role=role, scope=scope)
    return user


def _main_text(response):
    """The page's <main> with tags and the per-request CSRF token taken out: what a reader sees."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


@pytest.fixture
def lab(db):
    return Host.objects.create(name="lab", uri="test:///default")


def test_a_refusal_names_the_right_and_who_can_grant_it_in_the_layout(demo_host, admin):
    viewer = _user("vera", "Viewer", demo_host)
    response = _client(viewer).get(reverse("compute:vm_create"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="navbar' in html  # the app's layout, with its navigation
    assert "You may not create and clone virtual machines here." in html
    assert "People who can grant access:" in html and admin.username in html
    assert 'id="error-back"' in html


def test_who_can_grant_is_who_holds_user_manage_everywhere(demo_host, admin):
    _user("uma", "Administrator")  # global: may grant
    _user("hank", "Administrator", demo_host)  # on one host only: may not grant
    _user("oscar", "Operator")
    assert granters() == ["alice-admin", "uma"]


def test_a_vm_of_another_host_answers_exactly_like_a_missing_one(demo_host, lab):
    vm = make_vm(demo_host)
    operator = _user("otto", "Operator", lab)
    client = _client(operator)
    hidden = client.get(reverse("compute:vm_detail", args=[vm.pk]))
    missing_pk = vm.pk + 100000
    missing = client.get(reverse("compute:vm_detail", args=[missing_pk]))
    assert hidden.status_code == missing.status_code == 404
    assert _main_text(hidden) == _main_text(missing)
    assert "There is nothing here that your account may see." in _main_text(hidden)
    # Changing it answers the same way (and the refusal is still audited).
    post = client.post(reverse("compute:vm_settings_save", args=[vm.pk]), {"vcpus": 1})
    assert post.status_code == 404


def test_a_viewer_still_gets_403_for_a_change_to_a_vm_they_may_see(demo_host):
    vm = make_vm(demo_host)
    viewer = _user("vera", "Viewer", demo_host)
    assert _client(viewer).post(reverse("compute:vm_settings_save", args=[vm.pk]), {"vcpus": 1}).status_code == 403


def test_a_host_filter_the_user_may_not_use_is_dropped_with_a_note(demo_host, lab):
    operator = _user("otto", "Operator", lab)
    response = _client(operator).get(reverse("compute:vm_list"), {"host": demo_host.pk})
    assert response.status_code == 200
    pools = _client(operator).get(reverse("storage:pool_list"), {"host": demo_host.pk})
    assert pools.status_code == 200
    assert DROPPED_HOST in pools.content.decode()


def test_the_vm_filter_keeps_what_it_may_and_notes_what_it_dropped(demo_host, lab):
    hosts = Host.objects.filter(pk=lab.pk)
    dropped = VMListFilter({"host": str(demo_host.pk), "q": "web"}, hosts=hosts)
    assert dropped.is_valid() and dropped.notes == [DROPPED_HOST]
    assert dropped.cleaned_data["host"] is None and dropped.cleaned_data["q"] == "web"
    kept = VMListFilter({"host": str(lab.pk)}, hosts=hosts)
    assert kept.is_valid() and kept.notes == [] and kept.cleaned_data["host"] == lab


def test_an_account_with_no_grants_is_told_so_and_who_can_grant(demo_host, admin, outsider):
    client = _client(outsider)
    for name in ("hosts:host_list", "storage:pool_list"):
        text = _main_text(client.get(reverse(name)))
        assert "Your account has no access yet." in text
        assert f"People who can grant it: {admin.username}" in text
        assert "No hosts yet." not in text


def test_empty_lists_say_none_that_you_may_see_to_someone_with_some_access(demo_host):
    vm = make_vm(demo_host)
    vm_user = _user("vic", "VM user", vm)  # no host.view, no storage.view
    client = _client(vm_user)
    assert "No hosts that you may see." in _main_text(client.get(reverse("hosts:host_list")))
    assert "No storage pools that you may see." in _main_text(client.get(reverse("storage:pool_list")))


def test_read_only_names_the_grant_and_the_missing_right(demo_host, admin):
    vm = make_vm(demo_host)
    viewer = _user("vera", "Viewer", demo_host)
    reason = read_only_reason(viewer, vm, "vm.edit")
    assert reason.label == "Viewer on demo"
    assert (
        reason.why
        == "Your role does not let you change a virtual machine's hardware and settings here. Ask alice-admin."
    )
    operator = _user("otto", "Operator", demo_host)
    assert read_only_reason(operator, vm, "vm.edit") is None


def test_a_grant_needs_a_scope_chosen_everything_included(demo_host, admin):
    bob = _user("bob")
    client = _client(admin)
    url = reverse("accounts:grant_add", args=["user", bob.pk])
    role = Role.objects.get(name="Viewer")
    client.post(url, {"role": role.pk})
    assert not bob.grants.exists()  # nothing chosen: nothing granted, least of all everything
    client.post(url, {"role": role.pk, "scope": "everything"})
    assert bob.grants.get().scope_type == "global"
    page = client.get(reverse("accounts:user_detail", args=[bob.pk])).content.decode()
    assert 'name="scope"' in page and 'size="8"' in page and '<optgroup label="Hosts">' in page
    assert re.search(r'<option value="everything"\s*>Everything</option>', page)
