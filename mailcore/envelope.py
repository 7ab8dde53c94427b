"""Turning what IMAP says about a message (ENVELOPE, FLAGS, BODYSTRUCTURE, dates) into list fields,
whatever the message's headers are made of."""

from __future__ import annotations

import email.errors
import email.header
import re
from datetime import UTC, datetime

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # raw 8-bit without a charset: the usual meaning in our region


def decode_header(raw: bytes | str | None, limit: int = 1000) -> str:
    """An RFC 2047 header as text: unknown charsets and broken encodings fall back to the raw text,
    control characters (a NUL in a display name) become spaces, and the result is cut at `limit`."""
    if raw is None:
        return ""
    text = _text(raw)
    try:
        parts = email.header.decode_header(text)
        decoded = "".join(
            _text(part) if charset is None else part.decode(charset, "replace") if isinstance(part, bytes) else part
            for part, charset in parts)
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        decoded = text
    return " ".join(_CONTROL.sub(" ", decoded).split())[:limit]


def as_utc(value: datetime | None) -> datetime | None:
    """UTC without a time zone, as stored; a naive value is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def sender(envelope) -> tuple[str, str]:
    first = None
    if envelope is not None:
        for addresses in (envelope.from_, envelope.sender):
            if addresses:
                first = addresses[0]
                break
    if first is None:
        return "", ""
    name = decode_header(first.name, 300)
    mailbox, host = decode_header(first.mailbox, 200), decode_header(first.host, 200)
    return name, (f"{mailbox}@{host}" if mailbox and host else mailbox)[:320]


def recipients(envelope) -> str:
    """To (else Cc) as the Sent and Drafts lists show it: names where there are names."""
    if envelope is None:
        return ""
    shown = []
    for address in (envelope.to or envelope.cc or ())[:20]:
        name = decode_header(address.name, 300)
        mailbox, host = decode_header(address.mailbox, 200), decode_header(address.host, 200)
        shown.append(name or (f"{mailbox}@{host}" if mailbox and host else mailbox))
    return ", ".join(s for s in shown if s)[:1000]


def has_attachments(structure) -> bool:
    """A part with an attachment disposition, or a non-text leaf in a multipart message."""
    try:
        return _walk(structure, top=True)
    except Exception:
        return False


def _walk(part, top: bool) -> bool:
    if part is None:
        return False
    if isinstance(part[0], list):  # multipart: ([children], subtype, ...)
        return any(_walk(child, top=False) for child in part[0])
    kind = part[0].lower() if isinstance(part[0], bytes) else b""
    if any(isinstance(item, tuple) and item and isinstance(item[0], bytes) and item[0].lower() == b"attachment"
           for item in part[2:]):
        return True
    return not top and kind not in (b"text", b"multipart", b"message")
