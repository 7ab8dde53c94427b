"""The list's fields of a message (sender, subject, date, paperclip, preview) from the few header
lines a first sync fetches, decoded with the email package.

A header block costs IMAP parsers far less than an ENVELOPE and a BODYSTRUCTURE (one literal
against nested lists), and carries all the list shows. Whatever the headers are made of (RFC 2047
words, raw 8-bit text, a NUL, no Date at all), decoding gives a field, never an exception.
"""

from __future__ import annotations

import email.errors
import email.utils
import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser
from email.policy import compat32
from functools import lru_cache

from mailcore.envelope import as_text, as_utc, decode_header

# SENDER stands in for a missing From, as it does in an ENVELOPE; TO (else CC) is what the Sent and
# Drafts lists show instead of the sender.
# MESSAGE-ID, IN-REPLY-TO and REFERENCES thread it into its conversation (mailcore/threading.py).
LIST_HEADERS = ("FROM", "SENDER", "TO", "CC", "SUBJECT", "DATE", "CONTENT-TYPE", "MESSAGE-ID", "IN-REPLY-TO",
                "REFERENCES")
LIST_FIELDS_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(LIST_HEADERS)})]"
PREVIEW_LIMIT = 300
# Where a server has no PREVIEW (RFC 8970): the start of the text, enough for a line of preview.
FIRST_TEXT_BYTES = 4096
FIRST_TEXT_ITEM = f"BODY.PEEK[TEXT]<0.{FIRST_TEXT_BYTES}>"
# A top-level type that is itself a file: the whole message is the attachment.
_FILE_TYPES = ("application/", "image/", "audio/", "video/", "font/", "model/")
_SPACE = re.compile(r"\s+")
_TAGS = re.compile(r"<(style|script|head)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_HEADER = re.compile(rb"^([!-9;-~]+)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE)
_FOLD = re.compile(rb"\r?\n|\r")


@dataclass(frozen=True, slots=True)
class ListFields:
    sender_name: str
    sender_address: str
    subject: str
    date: datetime | None  # UTC; None when the Date header is missing or unreadable
    has_attachments: bool
    recipients: str = ""  # To (else Cc): names where there are names


def header_block(data: dict) -> bytes | None:
    """The header block in one message's FETCH answer (the server names the item as it likes)."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return value if isinstance(value, bytes) else None
    return None


def header_lines(block: bytes) -> dict[bytes, bytes]:
    """Lower-cased name -> value (unfolded, raw bytes) of each header's first occurrence. A server
    answers HEADER.FIELDS with just those lines, so a line split is all the parsing they need; the
    email package's parser would cost five times the rest of the decoding."""
    found: dict[bytes, bytes] = {}
    for name, value in _HEADER.findall(block):
        found.setdefault(name.lower(), _FOLD.sub(b"", value).strip())
    return found


def list_fields(block: bytes | None) -> ListFields:
    """The list's fields from a header block; an empty or missing block gives empty fields."""
    headers = header_lines(block or b"")
    name, address = sender(headers.get(b"from") or headers.get(b"sender"))
    subject = headers.get(b"subject")
    return ListFields(name, address, decode_header(subject) if subject is not None else "",
                      _date(headers.get(b"date")), _has_attachments(headers.get(b"content-type")),
                      recipients(headers.get(b"to") or headers.get(b"cc")))


def recipients(raw: bytes | None) -> str:
    """To (else Cc) as the Sent and Drafts lists show it: names where there are names."""
    if not raw:
        return ""
    try:
        found = email.utils.getaddresses([as_text(raw)])[:20]
    except (IndexError, ValueError, TypeError):
        return decode_header(raw, 1000)
    shown = [decode_header(name, 300) or decode_header(address, 320) for name, address in found]
    return ", ".join(s for s in shown if s)[:1000]


@lru_cache(maxsize=4096)  # mail comes from few senders: most From lines have been decoded before
def sender(raw: bytes | None) -> tuple[str, str]:
    """(display name, address) of the first address in a From (or Sender) header."""
    if not raw:
        return "", ""
    text = as_text(raw)
    try:
        name, address = email.utils.parseaddr(text)
    except (IndexError, ValueError, TypeError):
        name, address = "", ""
    if not address and not name:
        name = text
    return decode_header(name, 300), decode_header(address, 320)


def _date(raw: bytes | None) -> datetime | None:
    if not raw:
        return None
    try:
        return as_utc(email.utils.parsedate_to_datetime(as_text(raw)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _has_attachments(raw: bytes | None) -> bool:
    """The paperclip from one header: mixed content, or a message that is a file itself. Nearly
    always right; opening the message checks its parts (summaries.correct_paperclip)."""
    if not raw:
        return False
    kind = as_text(raw).split(";", 1)[0].strip().lower()
    return kind == "multipart/mixed" or kind.startswith(_FILE_TYPES)


def preview_text(raw: bytes | str | None) -> str:
    """A PREVIEW answer as the list's one line."""
    if raw is None:
        return ""
    return decode_header(raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace"), PREVIEW_LIMIT)


def first_text(content_type: bytes | None, encoding: bytes | None, start: bytes | None) -> str:
    """The list's preview from the first bytes of a message's text (servers without PREVIEW): the
    first plain or HTML part, decoded, tags dropped, on one line. A cut-off part still gives what
    it has."""
    if not start:
        return ""
    head = b"Content-Type: " + (content_type or b"text/plain") + b"\r\n"
    if encoding:
        head += b"Content-Transfer-Encoding: " + encoding + b"\r\n"
    try:
        message = BytesParser(policy=compat32).parsebytes(head + b"\r\n" + start)
        for part in message.walk():
            if part.get_content_maintype() != "text" or part.get_filename():
                continue
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, "replace")
            except LookupError:
                text = as_text(payload)
            if part.get_content_subtype() == "html":
                text = _TAGS.sub(" ", text)
            text = _SPACE.sub(" ", text).strip()
            if text:
                return decode_header(text.encode("utf-8"), PREVIEW_LIMIT)
    except (email.errors.MessageError, LookupError, ValueError, TypeError, AssertionError):
        pass
    return ""
