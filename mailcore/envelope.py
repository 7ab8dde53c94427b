"""Header text and dates as the list stores them, whatever the message's headers are made of."""

from __future__ import annotations

import email.errors
import email.header
import re
from datetime import UTC, datetime

# C0 and C1 controls: IMAP hands a header's NUL over as 0x80, which Latin-1 makes a C1 control
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def as_text(raw: bytes | str) -> str:
    """Header bytes as text: UTF-8 where they are, else Latin-1."""
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
    text = as_text(raw)
    try:
        parts = email.header.decode_header(text)
        decoded = "".join(
            as_text(part) if charset is None else part.decode(charset, "replace") if isinstance(part, bytes) else part
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
