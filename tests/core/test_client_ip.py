"""The client address in the audit trail and login throttling cannot be forged past the proxy."""

from __future__ import annotations

from django.test import RequestFactory, override_settings

from socialsec.core.middleware import client_ip


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_socket_address_is_the_client():
    assert client_ip(request_from("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client():
    assert client_ip(request_from("10.0.0.2", "198.51.100.7")) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_an_address_the_client_wrote_itself_is_ignored():
    # The client sent "X-Forwarded-For: 127.0.0.1"; the proxy appended the real address.
    assert client_ip(request_from("10.0.0.2", "127.0.0.1, 198.51.100.7")) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_a_direct_caller_cannot_claim_another_address():
    assert client_ip(request_from("198.51.100.7", "127.0.0.1")) == "198.51.100.7"
