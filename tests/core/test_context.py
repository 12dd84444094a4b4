from django.test import RequestFactory, override_settings

from apps.core.context import client_ip


def meta(remote, forwarded=None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request.META


@override_settings(KVMWEB_PROXY_IP_HEADER="HTTP_X_FORWARDED_FOR", KVMWEB_TRUSTED_PROXIES=("10.0.0.5",))
def test_the_forwarded_address_is_believed_only_from_a_trusted_proxy():
    assert client_ip(meta("10.0.0.5", "203.0.113.9")) == "203.0.113.9"
    # A client that writes its own header cannot pick its address: the proxy's entry is the last.
    assert client_ip(meta("10.0.0.5", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(meta("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_without_a_configured_header_the_peer_address_counts():
    assert client_ip(meta("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
