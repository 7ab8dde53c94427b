"""The one pinned HTTPS client (mailcore/https.py, for autoconfig documents and OAuth issuers) against
a real HTTPS server on loopback: it reaches the approved address, checks the certificate's name, and
leaves the installation's shared TLS context as strict as it found it (IMAP and SMTP use the same one)."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from localmail.certs import TlsFiles
from localmail.https import LocalHttps
from mailcore import errors
from mailcore.https import get, pinned_session
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks

DOCUMENT = b'{"issuer": "https://pinned.test"}'


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return TlsFiles.create(tmp_path_factory.mktemp("pinned-tls"), ["pinned.test"])


@pytest.fixture(scope="module")
def server(tls):
    web = LocalHttps(tls, names=["pinned.test"])
    web.route("pinned.test", "/doc.json", DOCUMENT)
    web.route("other.test", "/doc.json", DOCUMENT)
    yield web
    web.stop()


@pytest.fixture
def context(tls) -> ssl.SSLContext:
    """A context like the installation's (MailEnvironment.tls_context): shared by every connection."""
    return ssl.create_default_context(cafile=str(tls.ca_bundle))


def policy_to(address: str) -> NetworkPolicy:
    return NetworkPolicy(parse_networks("127.0.0.0/8"), MAIL_PORTS, lambda host: [address])


def test_a_fetch_reaches_the_approved_address_and_leaves_the_shared_context_strict(server, context):
    with pinned_session(policy_to(server.host), context) as http:
        answer = get(http, server.url("pinned.test", "/doc.json"), 1000, "application/json", timeout=5)
    assert (answer.status, answer.body) == (200, DOCUMENT)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


def test_after_a_fetch_a_certificate_for_another_name_is_still_refused(server, context):
    with pinned_session(policy_to(server.host), context) as http:
        assert get(http, server.url("pinned.test", "/doc.json"), 1000, "application/json", timeout=5).status == 200
        with pytest.raises(requests.exceptions.SSLError):
            get(http, server.url("other.test", "/doc.json"), 1000, "application/json", timeout=5)
    # a mail connection on the same context (imapclient and smtplib wrap the socket like this)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        with pytest.raises(ssl.SSLCertVerificationError, match="other.test|match"):
            context.wrap_socket(sock, server_hostname="other.test")


def test_a_document_past_the_limit_shows_as_one_byte_more(server, context):
    with pinned_session(policy_to(server.host), context) as http:
        answer = get(http, server.url("pinned.test", "/doc.json"), 10, "application/json", timeout=5)
    assert len(answer.body) == 11


def test_plain_http_and_a_refused_network_are_never_reached(server, context):
    refusing = NetworkPolicy(parse_networks(""), MAIL_PORTS, lambda host: [server.host])  # loopback not allowed
    asked = list(server.requests)
    with pinned_session(refusing, context) as http:
        with pytest.raises(errors.MailError):
            get(http, server.url("pinned.test", "/doc.json"), 1000, "application/json", timeout=5)
    with pinned_session(policy_to(server.host), context) as http:
        with pytest.raises(requests.exceptions.InvalidURL):
            get(http, f"http://pinned.test:{server.port}/doc.json", 1000, "application/json", timeout=5)
    assert server.requests == asked
