"""Fetching an autoconfig document from hostile HTTPS servers on loopback: one that trickles its
answer a byte at a time (handshake, headers, body), and one that redirects to another port."""

from __future__ import annotations

import ssl
import threading
import time

import pytest

from localmail.certs import TlsFiles
from localmail.https import LocalHttps
from localmail.trickle import TrickleProxy
from localmail.world import config_xml
from mailcore.discovery.autoconfig import AutoconfigError, fetch, parse
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks

CONFIG = "/mail/config-v1.1.xml"
NAMES = ["fetch.test", "*.fetch.test"]
DOCUMENT = config_xml([("mail.fetch.test", 993, "SSL", "%EMAILADDRESS%")],
                      [("mail.fetch.test", 465, "SSL", "%EMAILADDRESS%")], "Fetch Test")
HOST_443 = "127.0.7.43"  # a loopback address of this file's own, so that port 443 is free on it
DEADLINE = 1.0


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return TlsFiles.create(tmp_path_factory.mktemp("autoconfig-tls"), NAMES)


@pytest.fixture(scope="module")
def context(tls) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.ca_bundle))


@pytest.fixture(scope="module")
def web(tls):
    server = LocalHttps(tls, names=NAMES)
    server.route("autoconfig.fetch.test", CONFIG, DOCUMENT)
    server.trickle("drip.fetch.test", CONFIG, DOCUMENT, interval=0.05)
    server.redirect("hop.fetch.test", CONFIG, "https://drip.fetch.test" + CONFIG)
    yield server
    server.stop()


def policy_to(address: str) -> NetworkPolicy:
    """Every name resolves to `address` (as a DNS server would say), loopback allowed."""
    return NetworkPolicy(parse_networks("127.0.0.0/8"), MAIL_PORTS, lambda host: [address])


def timed_fetch(url: str, policy: NetworkPolicy, context: ssl.SSLContext, port: int | None,
                deadline: float = DEADLINE) -> tuple[bytes | Exception | None, float]:
    """fetch() in a thread of its own, so that a fetch that never ends cannot hang the test run."""
    outcome: list = [None]

    def run() -> None:
        try:
            outcome[0] = fetch(url, policy, context, time.monotonic() + deadline, port)
        except Exception as exc:
            outcome[0] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=deadline + 5)
    assert not thread.is_alive(), "the fetch was still running long after its deadline"
    return outcome[0], time.monotonic() - started


def test_a_prompt_server_is_read(web, context):
    body, seconds = timed_fetch("https://autoconfig.fetch.test" + CONFIG, policy_to(web.host), context, web.port)
    assert parse(body, "kim@fetch.test").display_name == "Fetch Test"
    assert seconds < DEADLINE


@pytest.mark.parametrize("name", ["drip.fetch.test", "hop.fetch.test"])
def test_a_trickled_answer_cannot_hold_the_fetch_past_its_deadline(web, context, name):
    """Headers and body come a byte every 50 ms: no single read ever waits long enough to time out."""
    outcome, seconds = timed_fetch(f"https://{name}{CONFIG}", policy_to(web.host), context, web.port)
    assert isinstance(outcome, AutoconfigError)
    assert seconds < DEADLINE + 1.0  # without the deadline a trickle holds it for tens of seconds


def test_a_trickled_tls_handshake_cannot_hold_the_fetch_past_its_deadline(web, context):
    with TrickleProxy(web.host, web.port, interval=0.02) as slow:
        outcome, seconds = timed_fetch("https://autoconfig.fetch.test" + CONFIG, policy_to(slow.host), context,
                                       slow.port)
        assert slow.server_bytes > 0  # the server did answer, slowly: the handshake was under way when cut
    assert isinstance(outcome, AutoconfigError)
    assert seconds < DEADLINE + 1.0  # without the deadline a trickle holds it for tens of seconds


@pytest.fixture(scope="module")
def port_443(tls):
    """A server on port 443 (the default autoconfig port) and one on another port with the document."""
    elsewhere = LocalHttps(tls, names=NAMES, host=HOST_443)
    elsewhere.route("autoconfig.fetch.test", "/other-port.xml", DOCUMENT)
    standard = LocalHttps(tls, names=NAMES, host=HOST_443, port=443)
    standard.redirect("autoconfig.fetch.test", CONFIG, f"https://autoconfig.fetch.test:{elsewhere.port}/other-port.xml")
    standard.redirect("fetch.test", CONFIG, "https://autoconfig.fetch.test:443/same-port.xml")
    standard.route("autoconfig.fetch.test", "/same-port.xml", DOCUMENT)
    yield standard, elsewhere
    standard.stop()
    elsewhere.stop()


def test_a_redirect_to_another_port_is_refused(port_443, context):
    standard, elsewhere = port_443
    outcome, _ = timed_fetch("https://autoconfig.fetch.test" + CONFIG, policy_to(HOST_443), context, None)
    assert isinstance(outcome, AutoconfigError) and str(elsewhere.port) in str(outcome)
    assert elsewhere.requests == []  # never even asked
    body, _ = timed_fetch("https://fetch.test" + CONFIG, policy_to(HOST_443), context, None)
    assert b"Fetch Test" in body  # port 443 named outright is port 443


def test_with_a_configured_port_redirects_stay_on_it(web, tls, context):
    elsewhere = LocalHttps(tls, names=NAMES)
    try:
        elsewhere.route("autoconfig.fetch.test", "/moved.xml", DOCUMENT)
        web.redirect("away.fetch.test", CONFIG, f"https://autoconfig.fetch.test:{elsewhere.port}/moved.xml")
        web.redirect("stay.fetch.test", CONFIG, f"https://autoconfig.fetch.test:{web.port}{CONFIG}")
        web.redirect("plain.fetch.test", CONFIG, "https://autoconfig.fetch.test" + CONFIG)
        outcome, _ = timed_fetch("https://away.fetch.test" + CONFIG, policy_to(web.host), context, web.port)
        assert isinstance(outcome, AutoconfigError) and elsewhere.requests == []
        for name in ("stay.fetch.test", "plain.fetch.test"):
            body, _ = timed_fetch(f"https://{name}{CONFIG}", policy_to(web.host), context, web.port)
            assert b"Fetch Test" in body
    finally:
        elsewhere.stop()
