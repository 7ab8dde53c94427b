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
