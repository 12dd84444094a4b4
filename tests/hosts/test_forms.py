"""The host form and the URI rules: what a person types, and what kvmweb will not connect to."""

import pytest

from apps.hosts import uris
from apps.hosts.forms import HostForm
from apps.hosts.models import Host


def _form(**data):
    return HostForm({"name": "hv1", **data})


def _errors(form):
    assert not form.is_valid()
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@pytest.mark.parametrize(
    "uri, says",
    [
        ("not a uri at all", "not a libvirt URI"),
        ("qemu-system", "not a libvirt URI"),
        ("http://hv1.example.com/system", "Unknown driver 'http'"),
        ("xen:///system", "Unknown driver 'xen'"),
        ("qemu+ext:///system?command=/bin/sh", "Unknown or refused transport 'ext'"),
        ("qemu+ssh:///system", "needs the host"),
        ("qemu+ssh://hv1.example.com/system", "needs the SSH user"),
        ("qemu+tls:///system", "needs the host"),
        ("qemu:///nowhere", "ends in /system"),
        ("qemu+ssh://root@hv1/system?no_verify=1", "Refused parameter 'no_verify'"),
        ("qemu+tcp://hv1:99999/system", "cannot be read"),
        ("test+unix:///", "names /default or a node XML file"),
    ],
)
def test_bad_uris_are_form_errors(db, uri, says):
    assert says in _errors(_form(kind="uri", uri=uri))


def test_ssh_needs_user_and_address(db):
    form = _form(kind="ssh")
    assert not form.is_valid()
    assert "address" in form.errors and "username" in form.errors


def test_missing_key_file_is_an_error(db, tmp_path):
    assert f"No key file at {tmp_path}/id_nope" in _errors(
        _form(kind="ssh", address="hv1.example.com", username="root", keyfile=f"{tmp_path}/id_nope")
    )
    assert "absolute path" in _errors(_form(kind="ssh", address="hv1", username="root", keyfile="id_ed25519"))
    # Typed as a whole URI, the key file is checked too.
    assert "does not exist" in _errors(_form(kind="uri", uri=f"qemu+ssh://root@hv1/system?keyfile={tmp_path}/x"))


def test_ssh_uri_carries_the_key_file_and_keeps_host_key_checking(db, tmp_path):
    key = tmp_path / "id_ed25519"
    key.write_text("not really a key")
    form = _form(kind="ssh", address="hv1.example.com", port="2222", username="root", keyfile=str(key))
    assert form.is_valid(), form.errors
    uri = form.cleaned_data["final_uri"]
    assert uri == f"qemu+ssh://root@hv1.example.com:2222/system?keyfile={str(key).replace('/', '%2F')}&no_tty=1"
    assert "no_verify" not in uri
    assert uris.split(uri) == {
        "kind": "ssh",
        "username": "root",
        "keyfile": str(key),
        "address": "hv1.example.com",
        "port": 2222,
    }


def test_local_tls_and_other_uris(db):
    assert _form(kind="local").is_valid()
    form = _form(kind="local")
    form.is_valid()
    assert form.cleaned_data["final_uri"] == "qemu:///system"
    form = _form(kind="tls", address="hv2.example.com")
    assert form.is_valid() and form.cleaned_data["final_uri"] == "qemu+tls://hv2.example.com/system"
    form = _form(kind="uri", uri="test+unix:///default")
    assert form.is_valid() and form.cleaned_data["final_uri"] == "test+unix:///default"
    form = _form(kind="tls", address="fe80::1")
    assert form.is_valid() and form.cleaned_data["final_uri"] == "qemu+tls://[fe80::1]/system"


def test_edit_form_starts_from_the_hosts_uri(db):
    host = Host(name="hv1", uri="qemu+tls://hv2.example.com:16514/system")
    form = HostForm(host=host)
    assert form.initial == {
        "name": "hv1", "kind": "tls", "pkipath": "", "address": "hv2.example.com", "port": 16514, "vm_bridges": ""
    }  # fmt: skip
    assert HostForm(host=Host(name="d", uri="test+unix:///default")).initial["kind"] == "uri"
    assert HostForm(host=Host(name="l", uri="qemu:///system")).initial["kind"] == "local"
