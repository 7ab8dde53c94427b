"""localmail's discovery helpers: DNS, HTTPS, a lab on standard ports, silent listeners.

Real clients only (dnspython, http.client, imaplib, smtplib, poplib), on loopback.
"""

from __future__ import annotations

import http.client
import imaplib
import poplib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.exception
import dns.resolver
import pytest

from localmail import MailLab
from localmail.dns import LocalDns
from localmail.https import LocalHttps
from localmail.tarpit import STANDARD_MAIL_PORTS, Tarpit

from .helpers import worker_loopback

# On the standard mail ports: 127.0.0.5 and .6, or addresses of each pytest-xdist worker's own
LAB_HOST = worker_loopback(15, "127.0.0.5")
TARPIT_HOST = worker_loopback(16, "127.0.0.6")
USER = ("guess@guess.test", "guess-pw")
TIMEOUT = 5


# DNS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_dns() -> Iterator[LocalDns]:
    server = LocalDns(
        {
            "example.test": [("A", "127.0.0.5"), ("MX", 10, "mx.example.test")],
            "Mx.Example.Test.": [("A", "127.0.0.5"), ("AAAA", "::1")],
            "_imaps._tcp.example.test": [("SRV", 0, 1, 993, "imap.example.test")],
            "_submission._tcp.example.test": [("SRV", 5, 0, 0, ".")],
            "alias.example.test": [("CNAME", "example.test")],
            "txt.example.test": [("TXT", "v=spf1 -all")],
        },
        silent={"slow.test"},
    )
    yield server
    server.stop()


def resolver(local_dns: LocalDns, lifetime: float = 2.0) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [local_dns.host]
    res.port = local_dns.port
    res.lifetime = lifetime
    res.cache = None
    return res


def test_dns_address_is_udp_and_tcp(local_dns: LocalDns) -> None:
    assert local_dns.address == f"127.0.0.1:{local_dns.port}"
    for tcp in (False, True):
        answer = resolver(local_dns).resolve("example.test", "A", tcp=tcp)
        assert [r.address for r in answer] == ["127.0.0.5"]


def test_dns_mx_srv_txt_aaaa(local_dns: LocalDns) -> None:
    res = resolver(local_dns)
    [mx] = res.resolve("example.test", "MX")
    assert (mx.preference, mx.exchange.to_text()) == (10, "mx.example.test.")
    [srv] = res.resolve("_imaps._tcp.EXAMPLE.test", "SRV")
    assert (srv.priority, srv.weight, srv.port, srv.target.to_text()) == (
        0,
        1,
        993,
        "imap.example.test.",
    )
    [disabled] = res.resolve("_submission._tcp.example.test", "SRV")  # RFC 6186: "." = none
    assert disabled.target.to_text() == "."
    [txt] = res.resolve("txt.example.test", "TXT")
    assert txt.strings == (b"v=spf1 -all",)
    assert [r.address for r in res.resolve("mx.example.test", "AAAA")] == ["::1"]


def test_dns_nxdomain_and_nodata(local_dns: LocalDns) -> None:
    res = resolver(local_dns)
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("_imap._tcp.example.test", "SRV")
    with pytest.raises(dns.resolver.NoAnswer):  # the name exists, without that type
        res.resolve("example.test", "AAAA")


def test_dns_follows_cname(local_dns: LocalDns) -> None:
    answer = resolver(local_dns).resolve("alias.example.test", "MX")
    assert answer.canonical_name.to_text() == "example.test."
    assert [r.exchange.to_text() for r in answer] == ["mx.example.test."]


@pytest.mark.parametrize("tcp", [False, True])
def test_dns_silent_name_times_out(local_dns: LocalDns, tcp: bool) -> None:
    started = time.monotonic()
    with pytest.raises(dns.exception.Timeout):
        resolver(local_dns, lifetime=0.5).resolve("imap.slow.test", "A", tcp=tcp)
    assert 0.4 < time.monotonic() - started < 2
    assert local_dns.queried("imap.slow.test", "A") >= 1


def test_dns_set_and_query_log(local_dns: LocalDns) -> None:
    res = resolver(local_dns)
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("new.example.test", "A")
    local_dns.set("NEW.example.test", [("A", "127.0.0.9")])
    assert [r.address for r in res.resolve("new.example.test", "A")] == ["127.0.0.9"]
    local_dns.set("new.example.test", None)
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("new.example.test", "A")
    assert local_dns.queries[-3:] == [("new.example.test", "A")] * 3
    res.resolve("_imaps._tcp.EXAMPLE.test", "SRV")  # logged by its lower-case name, whatever was asked
    assert local_dns.queries[-1] == ("_imaps._tcp.example.test", "SRV")


def test_dns_rejects_bad_records() -> None:
    with pytest.raises(ValueError, match="bad MX record"):
        LocalDns({"x.test": [("MX", "mx.test")]})
    with pytest.raises(ValueError, match="unsupported record type"):
        LocalDns({"x.test": [("NS", "ns.test")]})


# MailLab on standard ports ------------------------------------------------------------


@pytest.fixture(scope="module")
def std_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailLab]:
    lab = MailLab.start(
        tmp_path_factory.mktemp("stdlab"),
        host=LAB_HOST,
        standard_ports=True,
        names=["*.guess.test"],
    )
    lab.add_user(*USER)
    yield lab
    lab.stop()


@pytest.fixture
def ctx(std_lab: MailLab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(std_lab.ca_bundle))


class NamedIMAP4_SSL(imaplib.IMAP4_SSL):
    """Dials an IP address, verifies the certificate for `name` (as after DNS)."""

    def __init__(self, ip: str, name: str, port: int, ssl_context: ssl.SSLContext) -> None:
        self.name = name
        super().__init__(ip, port, ssl_context=ssl_context, timeout=TIMEOUT)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.name)


class NamedSMTP_SSL(smtplib.SMTP_SSL):
    def __init__(self, ip: str, name: str, port: int, context: ssl.SSLContext) -> None:
        self.name = name
        super().__init__(ip, port, context=context, timeout=TIMEOUT)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((host, port), timeout)
        return self.context.wrap_socket(sock, server_hostname=self.name)


def test_standard_ports_and_names(std_lab: MailLab) -> None:
    assert std_lab.host == LAB_HOST
    assert std_lab.hostname == "*.guess.test"
    assert std_lab.names == ("*.guess.test",)
    ports = (std_lab.imap_tls_port, std_lab.imap_starttls_port, std_lab.smtp_tls_port)
    assert ports + (std_lab.smtp_starttls_port, std_lab.pop3_port) == (993, 143, 465, 587, 110)


def test_standard_imaps_verified_for_wildcard_name(
    std_lab: MailLab, ctx: ssl.SSLContext
) -> None:
    client = NamedIMAP4_SSL(LAB_HOST, "imap.guess.test", 993, ctx)
    assert client.login(*USER)[0] == "OK"
    client.logout()
    for name in ("imap.other.test", "a.imap.guess.test"):
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            NamedIMAP4_SSL(LAB_HOST, name, 993, ctx)


def test_standard_imap_143_sees_a_remote_client(std_lab: MailLab, ctx: ssl.SSLContext) -> None:
    """The relay dials Dovecot from another address than the lab's, so no plaintext login."""
    client = imaplib.IMAP4(LAB_HOST, 143, timeout=TIMEOUT)
    assert {"STARTTLS", "LOGINDISABLED"} <= set(client.capabilities)
    client.shutdown()
    pop = poplib.POP3(LAB_HOST, 110, timeout=TIMEOUT)
    assert pop.getwelcome().startswith(b"+OK")
    assert "STLS" in pop.capa()
    pop.quit()


def test_standard_smtp_465_and_587(std_lab: MailLab, ctx: ssl.SSLContext) -> None:
    with NamedSMTP_SSL(LAB_HOST, "smtp.guess.test", 465, ctx) as client:
        assert client.login(*USER)[0] == 235
    with smtplib.SMTP(LAB_HOST, 587, timeout=TIMEOUT) as client:
        code, greeting = client.ehlo()
        assert code == 250 and greeting.startswith(b"mail.guess.test")
        client._host = "mail.guess.test"  # type: ignore[attr-defined]  # the name to verify
        client.starttls(context=ctx)
        assert client.login(*USER)[0] == 235
    assert (USER[0], True) in std_lab.smtp_auth_attempts


def test_standard_ports_taken_fail_clearly(std_lab: MailLab, tmp_path: Path) -> None:
    with pytest.raises(OSError, match=f"port 993 on {LAB_HOST} is already in use"):
        MailLab.start(tmp_path, host=LAB_HOST, standard_ports=True)


# HTTPS ---------------------------------------------------------------------------------

AUTOCONFIG = b"<?xml version='1.0'?><clientConfig version='1.1'/>"
CONFIG_PATH = "/mail/config-v1.1.xml"


@pytest.fixture(scope="module")
def web(std_lab: MailLab) -> Iterator[LocalHttps]:
    server = LocalHttps(std_lab, names=["autoconfig.example.test", "example.test", "*.example.test"])
    server.route("autoconfig.example.test", CONFIG_PATH, AUTOCONFIG)
    server.redirect(
        "example.test",
        "/.well-known/autoconfig" + CONFIG_PATH,
        "https://autoconfig.example.test" + CONFIG_PATH,
    )
    server.tarpit("slow.example.test", CONFIG_PATH)
    yield server
    server.stop()


def https_get(
    web: LocalHttps, name: str, target: str, ctx: ssl.SSLContext, timeout: float = TIMEOUT
) -> http.client.HTTPResponse:
    """GET https://name/target, dialling web.host:web.port (as if DNS had said so)."""
    raw = socket.create_connection((web.host, web.port), timeout=timeout)
    conn = http.client.HTTPSConnection(name, web.port, timeout=timeout, context=ctx)
    conn.sock = ctx.wrap_socket(raw, server_hostname=name)
    conn.request("GET", target)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_https_serves_route_by_host(web: LocalHttps, ctx: ssl.SSLContext) -> None:
    target = CONFIG_PATH + "?emailaddress=guess%40example.test"
    raw = socket.create_connection((web.host, web.port), timeout=TIMEOUT)
    conn = http.client.HTTPSConnection("autoconfig.example.test", web.port, context=ctx)
    conn.sock = ctx.wrap_socket(raw, server_hostname="autoconfig.example.test")
    conn.request("GET", target)
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/xml; charset=utf-8"
    assert response.read() == AUTOCONFIG
    conn.close()
    assert ("autoconfig.example.test", target) in web.requests
    # Same path on another name the certificate covers: no route there.
    assert https_get(web, "imap.example.test", CONFIG_PATH, ctx).status == 404


def test_https_unknown_route_and_redirect(web: LocalHttps, ctx: ssl.SSLContext) -> None:
    assert https_get(web, "autoconfig.example.test", "/nothing", ctx).status == 404
    response = https_get(web, "example.test", "/.well-known/autoconfig" + CONFIG_PATH, ctx)
    assert response.status == 301
    assert response.getheader("Location") == "https://autoconfig.example.test" + CONFIG_PATH


def test_https_certificate_names(web: LocalHttps, ctx: ssl.SSLContext) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        https_get(web, "autoconfig.other.test", CONFIG_PATH, ctx)


def test_https_tarpit_times_out_without_blocking_others(
    web: LocalHttps, ctx: ssl.SSLContext
) -> None:
    started = threading.Event()

    def stuck() -> BaseException | None:
        started.set()
        try:
            https_get(web, "slow.example.test", CONFIG_PATH, ctx, timeout=1)
        except TimeoutError as error:
            return error
        return None

    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(stuck)
        started.wait()
        time.sleep(0.2)
        assert https_get(web, "autoconfig.example.test", CONFIG_PATH, ctx).status == 200
        assert isinstance(result.result(), TimeoutError)
    assert ("slow.example.test", CONFIG_PATH) in web.requests


def test_https_with_urllib_via_any_host_route(std_lab: MailLab, ctx: ssl.SSLContext) -> None:
    import urllib.request

    with LocalHttps(std_lab.tls_files, names=["localhost"], port=0) as local:
        local.route("*", "/hello", "hi", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(local.url("localhost", "/hello?x=1"), context=ctx) as page:
            assert page.read() == b"hi"
        assert local.requests == [("localhost", "/hello?x=1")]


# Tarpit on standard ports ---------------------------------------------------------------


def test_tarpit_on_standard_ports_is_silent() -> None:
    with Tarpit(TARPIT_HOST, STANDARD_MAIL_PORTS) as tarpit:
        assert tarpit.ports == [993, 143, 465, 587]

        def silent(port: int) -> bool:
            with socket.create_connection((TARPIT_HOST, port), timeout=TIMEOUT) as conn:
                conn.settimeout(0.5)
                try:
                    conn.recv(1)  # data or EOF: not a tarpit
                except TimeoutError:
                    return True
                return False

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(silent, tarpit.ports))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((TARPIT_HOST, 993), timeout=TIMEOUT)


def test_tarpit_port_taken_fails_clearly(std_lab: MailLab) -> None:
    with pytest.raises(OSError, match=f"port 465 on {LAB_HOST} is already in use"):
        Tarpit(LAB_HOST, [465])
