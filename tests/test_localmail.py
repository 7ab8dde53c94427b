"""localmail starts real Dovecot and aiosmtpd servers; these tests talk to them."""

from __future__ import annotations

import email
import email.policy
import imaplib
import json
import os
import poplib
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]

from localmail import MailLab

ALICE = ("alice@example.com", "correct horse")
ALERTED = ("carol@example.com", "right password")
ALERT = "Your account is suspended. Contact the help desk."
TIMEOUT = 5


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailLab]:
    lab = MailLab.start(tmp_path_factory.mktemp("localmail"))
    lab.add_user(*ALICE)
    lab.add_user(*ALERTED, alert=ALERT)
    yield lab
    lab.stop()


@pytest.fixture
def ctx(lab: MailLab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(lab.ca_bundle))


def imaps(lab: MailLab, ctx: ssl.SSLContext) -> imaplib.IMAP4_SSL:
    return imaplib.IMAP4_SSL(lab.hostname, lab.imap_tls_port, ssl_context=ctx, timeout=TIMEOUT)


def login_error(client: imaplib.IMAP4, user: str, password: str) -> str:
    """The text of the tagged NO reply (imaplib hands it over as bytes)."""
    with pytest.raises(imaplib.IMAP4.error) as failure:
        client.login(user, password)
    detail = failure.value.args[0]
    return detail.decode() if isinstance(detail, bytes) else str(detail)


# IMAP / POP3 (Dovecot) -------------------------------------------------------


def test_imaps_login_with_lab_ca(lab: MailLab, ctx: ssl.SSLContext) -> None:
    client = imaps(lab, ctx)
    assert client.login(*ALICE)[0] == "OK"
    assert client.select("INBOX")[0] == "OK"
    client.logout()


def test_starttls_port_disables_login_until_starttls(lab: MailLab, ctx: ssl.SSLContext) -> None:
    client = imaplib.IMAP4(lab.hostname, lab.imap_starttls_port, timeout=TIMEOUT)
    assert "STARTTLS" in client.capabilities
    assert "LOGINDISABLED" in client.capabilities
    client.starttls(ssl_context=ctx)
    assert "LOGINDISABLED" not in client.capabilities
    assert client.login(*ALICE)[0] == "OK"
    client.logout()


def test_plain_only_port_offers_no_starttls(lab: MailLab) -> None:
    client = imaplib.IMAP4(lab.host, lab.imap_plain_only_port, timeout=TIMEOUT)
    assert client.welcome.startswith(b"* OK")
    assert "STARTTLS" not in client.capabilities
    assert "LOGINDISABLED" in client.capabilities
    assert "[PRIVACYREQUIRED]" in login_error(client, *ALICE)
    client.logout()


def test_pop3_greets_and_offers_stls(lab: MailLab, ctx: ssl.SSLContext) -> None:
    client = poplib.POP3(lab.hostname, lab.pop3_port, timeout=TIMEOUT)
    assert client.getwelcome().startswith(b"+OK")
    assert "STLS" in client.capa()
    with pytest.raises(poplib.error_proto, match="Plaintext authentication disallowed"):
        client.user(ALICE[0])
        client.pass_(ALICE[1])
    client.stls(ctx)
    client.user(ALICE[0])
    assert client.pass_(ALICE[1]).startswith(b"+OK")
    client.quit()


def test_untrusted_listener_fails_verification(lab: MailLab, ctx: ssl.SSLContext) -> None:
    raw = socket.create_connection((lab.host, lab.imap_untrusted_tls_port), timeout=TIMEOUT)
    with raw, pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        ctx.wrap_socket(raw, server_hostname=lab.hostname)


def test_untrusted_listener_is_real_dovecot(lab: MailLab, ctx: ssl.SSLContext) -> None:
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    client = imaplib.IMAP4_SSL(
        lab.host, lab.imap_untrusted_tls_port, ssl_context=ctx, timeout=TIMEOUT
    )
    assert b"Dovecot" in client.welcome
    client.logout()


def test_certificate_is_for_localhost_only(lab: MailLab, ctx: ssl.SSLContext) -> None:
    raw = socket.create_connection((lab.host, lab.imap_tls_port), timeout=TIMEOUT)
    with raw, pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        ctx.wrap_socket(raw, server_hostname=lab.host)


def test_wrong_password_is_refused(lab: MailLab, ctx: ssl.SSLContext) -> None:
    message = login_error(imaps(lab, ctx), ALICE[0], "wrong")
    assert "[AUTHENTICATIONFAILED]" in message


def test_alert_user_gets_alert(lab: MailLab, ctx: ssl.SSLContext) -> None:
    message = login_error(imaps(lab, ctx), *ALERTED)
    assert message == f"[ALERT] {ALERT}"


def test_alert_user_with_wrong_password_gets_plain_failure(
    lab: MailLab, ctx: ssl.SSLContext
) -> None:
    message = login_error(imaps(lab, ctx), ALERTED[0], "wrong")
    assert "[AUTHENTICATIONFAILED]" in message
    assert ALERT not in message


def test_set_password_takes_effect_immediately(lab: MailLab, ctx: ssl.SSLContext) -> None:
    lab.add_user("dave@example.com", "first")
    assert imaps(lab, ctx).login("dave@example.com", "first")[0] == "OK"
    lab.set_password("dave@example.com", "second")
    assert "AUTHENTICATIONFAILED" in login_error(imaps(lab, ctx), "dave@example.com", "first")
    assert imaps(lab, ctx).login("dave@example.com", "second")[0] == "OK"


# SMTP (aiosmtpd) ---------------------------------------------------------------


def smtps(lab: MailLab, ctx: ssl.SSLContext) -> smtplib.SMTP_SSL:
    return smtplib.SMTP_SSL(lab.hostname, lab.smtp_tls_port, context=ctx, timeout=TIMEOUT)


def smtp_starttls(lab: MailLab, ctx: ssl.SSLContext) -> smtplib.SMTP:
    client = smtplib.SMTP(lab.hostname, lab.smtp_starttls_port, timeout=TIMEOUT)
    client.starttls(context=ctx)
    return client


def test_smtp_auth_on_tls_port_and_delivery(lab: MailLab, ctx: ssl.SSLContext) -> None:
    with smtps(lab, ctx) as client:
        assert client.login(*ALICE)[0] == 235
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = ALICE[0], "bob@example.org", "Hälsningar"
        msg.set_content("Hej då!")
        client.send_message(msg)
    received = lab.received[-1]
    assert received.mail_from == ALICE[0]
    assert received.rcpt_tos == ["bob@example.org"]
    assert received.auth_user == ALICE[0]
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert parsed["Subject"] == "Hälsningar"
    assert (ALICE[0], True) in lab.smtp_auth_attempts


def test_smtp_tls_port_requires_auth_before_mail(lab: MailLab, ctx: ssl.SSLContext) -> None:
    with smtps(lab, ctx) as client:
        client.ehlo()
        assert client.mail(ALICE[0])[0] == 530


def test_smtp_starttls_port(lab: MailLab, ctx: ssl.SSLContext) -> None:
    with smtplib.SMTP(lab.hostname, lab.smtp_starttls_port, timeout=TIMEOUT) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        assert client.docmd("AUTH", "PLAIN") == (530, b"Must issue a STARTTLS command first")
        client.starttls(context=ctx)
        client.ehlo()
        assert client.has_extn("auth")
        assert client.login(*ALICE)[0] == 235


@pytest.mark.parametrize("connect", [smtps, smtp_starttls])
def test_smtp_wrong_password_refused_quickly(
    lab: MailLab, ctx: ssl.SSLContext, connect: Callable[[MailLab, ssl.SSLContext], smtplib.SMTP]
) -> None:
    started = time.monotonic()
    with connect(lab, ctx) as client, pytest.raises(smtplib.SMTPAuthenticationError) as failure:
        client.login(ALICE[0], "wrong")
    assert failure.value.smtp_code == 535
    assert time.monotonic() - started < 2
    assert (ALICE[0], False) in lab.smtp_auth_attempts


def test_smtp_alert_user_gets_alert_text(lab: MailLab, ctx: ssl.SSLContext) -> None:
    with smtps(lab, ctx) as client, pytest.raises(smtplib.SMTPAuthenticationError) as failure:
        client.login(*ALERTED)
    assert failure.value.smtp_code == 535
    assert failure.value.smtp_error == f"5.7.8 {ALERT}".encode()


def test_smtp_no_starttls_port(lab: MailLab) -> None:
    with smtplib.SMTP(lab.host, lab.smtp_no_starttls_port, timeout=TIMEOUT) as client:
        client.ehlo()
        assert not client.has_extn("starttls")


# Storing messages -------------------------------------------------------------


def test_append_and_seed_demo(lab: MailLab) -> None:
    user = ("erik@example.se", "hemligt")
    lab.add_user(*user)
    msg = EmailMessage()
    msg["From"] = "Örjan Ek <orjan@example.se>"
    msg["To"] = user[0]
    msg["Subject"] = "Välkommen till brevlådan"
    msg.set_content("Hej och välkommen!")
    lab.append(user[0], msg, seen=True, date=datetime.now(UTC) - timedelta(days=2))
    lab.append(user[0], b"Subject: archived\r\n\r\nold\r\n", folder="Archive")
    assert lab.seed_demo(user[0]) == 12

    context = ssl.create_default_context(cafile=str(lab.ca_bundle))
    with IMAPClient(
        lab.hostname, port=lab.imap_tls_port, ssl=True, ssl_context=context, timeout=TIMEOUT
    ) as client:
        client.login(*user)
        assert client.select_folder("INBOX")[b"EXISTS"] == 13
        uids = client.search("ALL")
        assert len(uids) == 13
        headers = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]", "FLAGS"])
        parsed = [
            email.message_from_bytes(
                data[b"BODY[HEADER.FIELDS (SUBJECT FROM)]"], policy=email.policy.default
            )
            for data in headers.values()
        ]
        subjects = {str(m["Subject"]) for m in parsed}
        senders = {str(m["From"]) for m in parsed}
        assert {"Välkommen till brevlådan", "Fika på fredag?", "Quarterly report draft"} <= subjects
        assert "Åsa Öberg <asa.oberg@example.se>" in senders
        seen = [uid for uid, data in headers.items() if b"\\Seen" in data[b"FLAGS"]]
        assert 0 < len(seen) < 13
        assert client.select_folder("Archive")[b"EXISTS"] == 1


def test_demo_headers_are_rfc2047_encoded(lab: MailLab) -> None:
    user = ("frida@example.se", "pw")
    lab.add_user(*user)
    lab.seed_demo(user[0])
    context = ssl.create_default_context(cafile=str(lab.ca_bundle))
    with IMAPClient(
        lab.hostname, port=lab.imap_tls_port, ssl=True, ssl_context=context, timeout=TIMEOUT
    ) as client:
        client.login(*user)
        client.select_folder("INBOX", readonly=True)
        raw = b"".join(
            d[b"BODY[HEADER]"]
            for d in client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER]"]).values()
        )
    assert b"=?utf-8?" in raw
    raw.decode("ascii")  # no raw 8-bit bytes in headers


# Odd listeners ----------------------------------------------------------------


def test_tarpit_accepts_and_stays_silent(lab: MailLab) -> None:
    with socket.create_connection((lab.host, lab.tarpit_port), timeout=TIMEOUT) as conn:
        conn.settimeout(1)
        with pytest.raises(socket.timeout):
            conn.recv(1)


def test_closed_port_refuses(lab: MailLab) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lab.host, lab.closed_port), timeout=TIMEOUT)


# Lifecycle --------------------------------------------------------------------


def running_dovecots(workdir: Path, settle: float = 0.0) -> set[str]:
    """Config files of live (non-zombie) Dovecot masters started for this workdir.

    With settle, wait up to that long for the set to become empty: SIGKILLed
    children can take a moment to disappear.
    """
    deadline = time.monotonic() + settle
    while True:
        found = subprocess.run(
            ["pgrep", "--runstates", "D,R,S,T", "-af", f"dovecot -F -c {workdir}/"],
            capture_output=True,
            text=True,
        )
        configs = {line.rsplit(" ", 1)[-1] for line in found.stdout.splitlines()}
        if not configs or time.monotonic() >= deadline:
            return configs
        time.sleep(0.05)


def test_second_lab_stops_cleanly(tmp_path: Path) -> None:
    other = MailLab.start(tmp_path / "lab")
    assert {Path(conf).parent.name for conf in running_dovecots(other.workdir)} == {
        "main",
        "untrusted",
        "plain",
    }
    port = other.imap_tls_port
    other.stop()
    other.stop()  # idempotent
    assert running_dovecots(other.workdir, settle=1) == set()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((other.host, port), timeout=TIMEOUT)


def test_cli_runs_until_sigterm(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localmail",
            "--workdir",
            str(workdir),
            "--user",
            "demo@example.com",
            "--password",
            "demo",
            "--seed",
        ],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["seeded"] == 12
        context = ssl.create_default_context(cafile=info["ca_bundle"])
        client = imaplib.IMAP4_SSL(
            info["hostname"], info["imap_tls_port"], ssl_context=context, timeout=TIMEOUT
        )
        client.login("demo@example.com", "demo")
        assert client.select("INBOX", readonly=True)[1] == [b"12"]
        client.logout()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
    assert running_dovecots(workdir, settle=1) == set()


def test_a_restarted_lab_keeps_its_ports_and_delivers_mail_to_its_own_users(tmp_path: Path) -> None:
    """The demo's mailbox: a client set up before a restart still finds the servers, and mail sent
    to oneself arrives in the inbox."""
    import smtplib
    import ssl

    first = MailLab.start(tmp_path / "demo")
    ports = first.ports()
    first.stop()
    again = MailLab.start(tmp_path / "demo", kept_ports=ports)
    try:
        assert again.ports() == ports
        again.add_user("eva@demo.test", "pw-1")
        again.deliver_to_mailboxes()
        context = ssl.create_default_context(cafile=str(again.ca_bundle))
        with smtplib.SMTP_SSL(again.hostname, again.smtp_tls_port, context=context, timeout=TIMEOUT) as smtp:
            smtp.login("eva@demo.test", "pw-1")
            smtp.sendmail("eva@demo.test", ["eva@demo.test", "someone@elsewhere.test"],
                          b"From: eva@demo.test\r\nTo: eva@demo.test\r\nSubject: Till mig\r\n\r\nHej\r\n")
        with again.imap("eva@demo.test") as client:
            client.select_folder("INBOX", readonly=True)
            assert len(client.search(["SUBJECT", "Till mig"])) == 1
    finally:
        again.stop()
