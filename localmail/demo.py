"""A dozen believable messages, half Swedish and half English."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import NamedTuple

from .imap import Append


class _Demo(NamedTuple):
    sender: str
    subject: str
    body: str
    days_ago: float
    seen: bool
    html: bool = False
    attachment: bool = False


_MESSAGES = [
    _Demo(
        "Åsa Öberg <asa.oberg@example.se>",
        "Fika på fredag?",
        "Hej!\n\nSka vi ta en fika på fredag eftermiddag? Jag bjuder på kanelbullar.\n\nKram,\nÅsa",
        0.1,
        seen=False,
    ),
    _Demo(
        "Björn Ängström <bjorn.angstrom@example.se>",
        "Mötesanteckningar från måndagens möte",
        "Hej alla,\n\nHär kommer anteckningarna från måndagens möte. "
        "Nästa steg är att gå igenom budgeten.\n\n/Björn",
        1.3,
        seen=False,
    ),
    _Demo(
        "Märta Söderlund <marta@example.se>",
        "Återkoppling på offerten",
        "Hej,\n\nTack för offerten. Vi återkommer med synpunkter före den 15:e.\n\n"
        "Vänliga hälsningar\nMärta Söderlund",
        3.5,
        seen=True,
    ),
    _Demo(
        "Lövgrens Bokhandel <order@example.se>",
        "Din beställning är på väg",
        "Hej!\n\nDin beställning har skickats och levereras inom två till tre arbetsdagar.\n\n"
        "Tack för att du handlar hos oss!",
        6.2,
        seen=True,
        html=True,
    ),
    _Demo(
        "Göran Håkansson <goran.hakansson@example.se>",
        "Sommarstugan: nycklar och vägbeskrivning",
        "Hej!\n\nNyckeln ligger under krukan vid trappan. "
        "Sväng höger efter affären i Dalarö.\n\nHälsningar Göran",
        11.0,
        seen=False,
    ),
    _Demo(
        "Ingrid Nyström <ingrid.nystrom@example.se>",
        "Påminnelse: tandläkartid på torsdag",
        "Hej,\n\nEn påminnelse om din tid hos tandläkaren torsdag kl. 09.30.\n\n"
        "Med vänlig hälsning\nIngrid",
        17.8,
        seen=True,
    ),
    _Demo(
        "Alice Johnson <alice.johnson@example.com>",
        "Quarterly report draft",
        "Hi,\n\nAttached is the first draft of the quarterly report. "
        "Comments welcome by Friday.\n\nThanks,\nAlice",
        0.4,
        seen=False,
        attachment=True,
    ),
    _Demo(
        "Build Bot <ci@builds.example.com>",
        "Build #1432 passed",
        "All 412 tests passed on main in 3m 12s.\n\nCommit: 9f3c2e1 Fix date parsing",
        2.1,
        seen=True,
    ),
    _Demo(
        "Priya Raman <priya.raman@example.org>",
        "Lunch next week?",
        "Hey!\n\nAre you free for lunch on Tuesday or Wednesday next week? "
        "There's a new Thai place nearby.\n\nPriya",
        4.7,
        seen=False,
    ),
    _Demo(
        "Example Airlines <no-reply@example-airlines.com>",
        "Your booking confirmation ABC123",
        "Thank you for booking with us.\n\nBooking reference: ABC123\n"
        "Stockholm (ARN) to London (LHR), 14 June, 07:25.",
        8.9,
        seen=True,
        html=True,
    ),
    _Demo(
        "Tom O'Neill <tom.oneill@example.net>",
        "Re: Project kickoff notes",
        "Thanks for the notes. I've added the open questions at the bottom.\n\n-- Tom",
        13.4,
        seen=True,
    ),
    _Demo(
        "Python Weekly <newsletter@example.org>",
        "This week in Python: typing tips and more",
        "Hello,\n\nThis week: practical typing tips, a look at asyncio task groups, and more.\n\n"
        "Unsubscribe at any time.",
        20.0,
        seen=False,
    ),
]


def demo_messages(address: str, now: datetime | None = None) -> list[Append]:
    now = now or datetime.now(UTC)
    return [_build(demo, address, now - timedelta(days=demo.days_ago)) for demo in _MESSAGES]


def _build(demo: _Demo, address: str, date: datetime) -> Append:
    msg = EmailMessage()
    msg["From"] = demo.sender  # non-ASCII names and subjects become RFC 2047 words on output
    msg["To"] = address
    msg["Subject"] = demo.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid(domain=demo.sender.rsplit("@", 1)[1].rstrip(">"))
    msg.set_content(demo.body)
    if demo.html:
        paragraphs = "".join(f"<p>{line}</p>" for line in demo.body.split("\n") if line)
        msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    if demo.attachment:
        msg.add_attachment(
            b"Quarter,Revenue\nQ1,1200\nQ2,1350\n",
            maintype="text",
            subtype="csv",
            filename="report-draft.csv",
        )
    return Append(msg.as_bytes(policy=email.policy.SMTP), seen=demo.seen, date=date)
