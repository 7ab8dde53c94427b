"""Many small, believable messages, built fast (no email.message objects).

Swedish and English senders and subjects, RFC 2047 encoded where they are not
ASCII, a short text/plain body and about one in ten with a small attachment.
Deterministic for a given seed.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import Header
from typing import TypeVar

from .maildir import MaildirMessage

_T = TypeVar("_T")

_SENDERS = [
    ("Åsa Öberg", "asa.oberg", "example.se"),
    ("Björn Ängström", "bjorn.angstrom", "example.se"),
    ("Märta Söderlund", "marta", "example.se"),
    ("Göran Håkansson", "goran.hakansson", "example.se"),
    ("Ingrid Nyström", "ingrid.nystrom", "example.se"),
    ("Lövgrens Bokhandel", "order", "lovgren.example.se"),
    ("Åke Lindqvist", "ake", "kund.example"),
    ("Sofia Ek", "sofia.ek", "partner.example"),
    ("Örjan Wästberg", "orjan", "example.se"),
    ("Alice Johnson", "alice.johnson", "example.com"),
    ("Build Bot", "ci", "builds.example.com"),
    ("Priya Raman", "priya.raman", "example.org"),
    ("Tom O'Neill", "tom.oneill", "example.net"),
    ("Python Weekly", "newsletter", "example.org"),
    ("Example Airlines", "no-reply", "example-airlines.com"),
    ("Kalle Ström", "kalle", "föreningen.example"),  # an IDN domain: written as punycode
]
_TOPICS = [
    "Fika på fredag?",
    "Mötesanteckningar från måndagens möte",
    "Återkoppling på offerten",
    "Din beställning är på väg",
    "Påminnelse: tandläkartid på torsdag",
    "Sommarstugan: nycklar och vägbeskrivning",
    "Faktura för maj",
    "Årsmöte i föreningen",
    "Quarterly report draft",
    "Build passed",
    "Lunch next week?",
    "Your booking confirmation",
    "Project kickoff notes",
    "This week in Python",
    "Invoice overdue",
    "Weekend plans",
]
_PREFIXES = ["", "", "", "", "Re: ", "Re: ", "Fwd: ", "SV: "]
_PARAGRAPHS = [
    "Hej!\n\nTack för senast. Jag återkommer med mer information under veckan.",
    "Kan du titta på det här innan mötet på torsdag? Det är bråttom.",
    "Bifogar underlaget vi pratade om. Hör av dig om något är oklart.",
    "Vi ses på kontoret i morgon klockan nio. Ta med datorn.",
    "Hi,\n\nJust following up on the thread below. Any news?",
    "Thanks for the quick reply. I've updated the document accordingly.",
    "The build finished without errors. No action needed.",
    "Let me know which day works best for you and I'll book a table.",
]
_SIGNOFFS = ["Hälsningar", "Vänliga hälsningar", "Mvh", "Best regards", "Cheers", "Tack!"]
_ZONES = [0, 60, 120, -300]  # UTC offsets in minutes
_ATTACHMENTS = [
    ("text/csv", "rapport.csv", b"datum;belopp;kommentar\n2024-05-01;1200;hyra\n" * 20),
    ("application/pdf", "faktura.pdf", b"%PDF-1.4\n% not a real pdf, just bytes\n" * 40),
    ("image/png", "bild.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
]


def _encode(text: str) -> str:
    """RFC 2047 (utf-8, Q or B as the email package picks) if not ASCII."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _address(name: str, local: str, domain: str) -> str:
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    display = _encode(name)
    if display == name and any(c in name for c in "'\",.;:@<>()[]"):
        display = '"' + name.replace('"', '\\"') + '"'
    return f"{display} <{local}@{domain}>"


_FROM = [(_address(*sender), sender[2]) for sender in _SENDERS]
_SUBJECTS = [_encode(topic) for topic in _TOPICS]


def _attachment_part(index: int) -> bytes:
    kind, name, data = _ATTACHMENTS[index]
    encoded = base64.encodebytes(data).decode("ascii")
    return (
        f'Content-Type: {kind}; name="{name}"\n'
        f'Content-Disposition: attachment; filename="{name}"\n'
        "Content-Transfer-Encoding: base64\n\n"
        f"{encoded}"
    ).encode("ascii")


_ATTACHMENT_PARTS = [_attachment_part(i) for i in range(len(_ATTACHMENTS))]


def message_times(
    count: int, start: datetime | None, rng: random.Random, now: datetime | None = None
) -> list[float]:
    """`count` strictly increasing times (epoch seconds), oldest first.

    From `start` to now; without a start, about 50 a day ending now. A start in
    the future (or now) gives one message a minute from it.
    """
    now = now or datetime.now(UTC)
    if start is None:
        start = now - timedelta(days=max(30.0, count / 50))
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    first, last = start.timestamp(), now.timestamp()
    if last - first < count * 1e-3:  # too short a span (or none): a minute apart
        last = first + 60.0 * count
    times = sorted(rng.uniform(first, last) for _ in range(count))
    previous = -1.0
    for i, value in enumerate(times):
        value = round(value, 6)
        if value <= previous:
            value = round(previous + 1e-6, 6)
        times[i] = previous = value
    return times


def bulk_messages(
    address: str,
    count: int,
    *,
    start: datetime | None = None,
    seed: int = 0,
    seen_ratio: float = 0.5,
) -> Iterator[MaildirMessage]:
    """`count` messages to `address`, oldest first, with maildir times and flags.

    About 30 µs a message: strings are put together by hand, not by the email package.
    """
    rng = random.Random(seed)
    pick = rng.random

    def choose(items: list[_T]) -> _T:
        return items[int(pick() * len(items))]

    for number, moment in enumerate(message_times(count, start, rng), 1):
        sender, domain = choose(_FROM)
        date = _rfc5322_date(moment, choose(_ZONES))
        subject = f"{choose(_PREFIXES)}{choose(_SUBJECTS)} #{number}"
        body = f"{choose(_PARAGRAPHS)}\n\n{choose(_PARAGRAPHS)}\n\n{choose(_SIGNOFFS)}\n{number}\n"
        message_id = f"<bulk-{seed}-{number}-{rng.getrandbits(48):012x}@{domain}>"
        headers = (
            f"From: {sender}\nTo: {address}\nSubject: {subject}\nDate: {date}\n"
            f"Message-ID: {message_id}\nMIME-Version: 1.0\n"
        )
        if pick() < 0.1:
            boundary = f"=_bulk_{seed}_{number}"
            raw = (
                (
                    f'{headers}Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
                    f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
                    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                    f"{body}\n--{boundary}\n"
                ).encode()
                + choose(_ATTACHMENT_PARTS)
                + f"\n--{boundary}--\n".encode()
            )
        else:
            raw = (
                f"{headers}Content-Type: text/plain; charset=utf-8\n"
                f"Content-Transfer-Encoding: 8bit\n\n{body}"
            ).encode()
        yield MaildirMessage(raw, moment, "S" if pick() < seen_ratio else "")


_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _rfc5322_date(moment: float, offset_minutes: int) -> str:
    """email.utils.format_datetime's output, three times as fast."""
    t = time.gmtime(int(moment) + offset_minutes * 60)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{hours:02d}{minutes:02d}"
    )
