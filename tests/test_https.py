"""Inkorg over real HTTPS in Chromium: served with TLS itself, and under waitress (as scripts/serve.py
runs it) behind a TLS-terminating proxy with BEHIND_PROXY=1. A person signs in, connects the account
against the local Dovecot and SMTP server and sends a message, which arrives.

Over HTTPS Flask-WTF accepts a POST only with a same-origin Referer, so every form of the flow
proves the Referrer-Policy; the proxy case proves that X-Forwarded-* reach ProxyFix."""

from __future__ import annotations

import base64
import hashlib
import http.client
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import expect
from waitress import wasyncore
from waitress.server import create_server
from werkzeug.serving import make_server

from app import create_app
from scripts.serve import waitress_options

from .browser import wait_for_htmx
from .helpers import make_user, received

TIMEOUT = 15_000
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length", "server", "date"}


@pytest.fixture(scope="module")
def certificate(lab):
    """A certificate for 127.0.0.1 from the lab's CA."""
    return lab.issue_cert(["127.0.0.1", "localhost"])


@pytest.fixture(scope="module")
def chromium(certificate, shared_chromium):
    """Chromium that trusts exactly this certificate's key (an SPKI pin), as if its CA were installed."""
    cert = x509.load_pem_x509_certificate(certificate.cert.read_bytes())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return shared_chromium.browser(f"--ignore-certificate-errors-spki-list={pin}")


@contextmanager
def tls_served(app, certificate) -> Iterator[str]:
    """The app itself speaking TLS (werkzeug)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=certificate.server_context())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def under_waitress(app) -> Iterator[str]:
    """Plain HTTP on loopback, with the options scripts/serve.py gives waitress."""
    server = create_server(app, host="127.0.0.1", port=0, **waitress_options(app))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # closed in the server's own thread, between two polls: closed from here, its poll could still
        # be waiting on the sockets (EBADF); with nothing left to poll, its loop ends
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=5)


@contextmanager
def tls_proxy(backend: str, certificate) -> Iterator[str]:
    """A TLS-terminating reverse proxy, setting the headers docs/deployment.md asks of one."""
    target = urlsplit(backend)

    class Forward(BaseHTTPRequestHandler):
        def setup(self):
            self.request.settimeout(30)
            self.request.do_handshake()  # here, in the connection's own thread
            super().setup()

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
            headers |= {"X-Forwarded-For": self.client_address[0], "X-Forwarded-Proto": "https",
                        "X-Forwarded-Host": self.headers["Host"]}
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = do_HEAD = forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    server.socket = certificate.server_context().wrap_socket(server.socket, server_side=True,
                                                             do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def https_app(how: str, app_config: dict, certificate) -> Iterator[tuple[object, str]]:
    if how == "tls":
        app = create_app(app_config)
        with tls_served(app, certificate) as url:
            yield app, url
    else:
        app = create_app(app_config | {"BEHIND_PROXY": True})
        with under_waitress(app) as backend, tls_proxy(backend, certificate) as url:
            yield app, url


@pytest.mark.parametrize("how", ["tls", "proxy"])
def test_sign_in_connect_and_send_over_https(how, app_config, certificate, chromium, lab, mailbox):
    with https_app(how, app_config, certificate) as (app, base_url):
        make_user(app, mailbox.address)
        context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT)
        page = context.new_page()
        problems = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))

        first = page.goto(base_url + "/signin")
        assert first.headers["strict-transport-security"] == "max-age=31536000"
        assert first.headers["referrer-policy"] == "same-origin"
        page.get_by_label("User name", exact=True).fill(mailbox.address)
        page.get_by_label("Password", exact=True).fill("crm-password-1")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/inbox/**")
        wait_for_htmx(page)
        [cookie] = [c for c in context.cookies() if c["name"] == "session"]
        assert cookie["secure"] and cookie["httpOnly"]

        dialog = page.get_by_role("dialog", name="Set up email account")
        dialog.get_by_label("Email account", exact=True).fill(mailbox.address)
        dialog.get_by_role("button", name="Next", exact=True).click()
        expect(dialog).to_contain_text("Testmail")
        dialog.get_by_label("Password", exact=True).fill(mailbox.password)
        dialog.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", name="INBOX", exact=True)).to_be_visible()

        lab.received.clear()
        page.get_by_role("link", name="New", exact=True).click()
        compose = page.get_by_role("dialog", name="New email")
        compose.get_by_label("To", exact=True).fill("kund@example.test")
        compose.get_by_label("Subject", exact=True).fill(f"Över HTTPS ({how})")
        compose.get_by_label("Message", exact=True).fill("Skickat genom en krypterad anslutning.")
        compose.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_role("dialog", name="New email")).to_have_count(0)
        deadline = time.monotonic() + 10
        while not received(lab, f"Över HTTPS ({how})") and time.monotonic() < deadline:
            time.sleep(0.1)
        [sent] = received(lab, f"Över HTTPS ({how})")
        assert sent.rcpt_tos == ["kund@example.test"]
        assert not problems, problems
        context.close()


def test_behind_the_proxy_the_app_sees_https(app_config, certificate, lab):
    """Under waitress with BEHIND_PROXY=1 the app sees the proxy's X-Forwarded-* (so HSTS, Secure
    cookies and per-client sign-in throttling work); without a proxy nobody can claim HTTPS."""
    app = create_app(app_config | {"BEHIND_PROXY": True})
    context = ssl.create_default_context(cafile=str(lab.ca_bundle))
    with under_waitress(app) as backend, tls_proxy(backend, certificate) as url:
        connection = http.client.HTTPSConnection("127.0.0.1", urlsplit(url).port, context=context, timeout=10)
        connection.request("GET", "/signin")
        answer = connection.getresponse()
        assert answer.status == 200 and answer.getheader("Strict-Transport-Security") == "max-age=31536000"
        assert "Secure" in answer.getheader("Set-Cookie")
    plain = create_app(app_config)
    with under_waitress(plain) as backend:
        connection = http.client.HTTPConnection("127.0.0.1", urlsplit(backend).port, timeout=10)
        connection.request("GET", "/signin", headers={"X-Forwarded-Proto": "https"})
        answer = connection.getresponse()
        assert answer.getheader("Strict-Transport-Security") is None and "Secure" not in answer.getheader("Set-Cookie")
