"""The installation's own sender (SYSTEM_MAIL_URL) opens its SMTP session the one way users' do
(mailcore.connect.smtp_session): a relay that trickles its answers is cut off at MAIL_DEADLINE
instead of holding the request that sends a verification link."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from localmail.trickle import TrickleProxy
from mailcore import errors
from mailcore.compose.system_mail import SystemMail
from mailcore.connect import MailEnvironment
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks

DEADLINE = 1.0


def test_a_relay_that_trickles_its_answers_cannot_hold_a_send_past_the_deadline(lab):
    # the network rule allows nothing: the operator's relay is not subject to it
    nothing = NetworkPolicy(parse_networks(""), MAIL_PORTS, lambda host: [])
    env = MailEnvironment(nothing, lab.ca_bundle, timeout=5.0, deadline=DEADLINE)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "system@inkorg.test", "someone@inkorg.test", "Link"
    message.set_content("Hej!")
    with TrickleProxy(lab.host, lab.smtp_starttls_port, interval=0.1) as slow:
        sender = SystemMail.from_url(f"smtp://{slow.host}:{slow.port}", "Inkorg <system@inkorg.test>")
        started = time.monotonic()
        with pytest.raises(errors.MailError) as refused:
            sender.send(message, env)
        elapsed = time.monotonic() - started
        assert slow.connections == 1  # it did reach the relay
    assert refused.value.side == errors.OUTGOING and "timed out" in str(refused.value.detail)
    assert elapsed < DEADLINE + 1.0  # each byte came within the 5 s timeout: only the deadline ends it


def test_a_reply_of_endless_continuation_lines_is_refused_at_once(lab):
    """SMTP continuation lines (`220-`) are limited per reply: a server that never ends its greeting is
    refused after a few hundred kilobytes, long before the deadline, and not read on."""
    from localmail.hostile_smtp import EndlessReplySmtp
    from mailcore.connect import MAX_SMTP_ANSWER, smtp_session
    from mailcore.settings import ServerSettings

    with EndlessReplySmtp(lab.host, lab.tls_files.trusted) as endless:
        env = MailEnvironment(NetworkPolicy(parse_networks("127.0.0.0/8"), MAIL_PORTS | {endless.port},
                                            lambda host: [lab.host]), lab.ca_bundle, timeout=5.0, deadline=10.0)
        started = time.monotonic()
        with pytest.raises(errors.MailError) as refused:
            with smtp_session(ServerSettings(lab.hostname, endless.port, True, "someone"), None, env):
                pass
        elapsed = time.monotonic() - started
    assert refused.value.code == "protocol-failure" and refused.value.side == errors.OUTGOING
    assert elapsed < 3.0  # not the 10 s deadline
    assert endless.sent < MAX_SMTP_ANSWER * 20  # what the socket buffers held, not a reply without end
