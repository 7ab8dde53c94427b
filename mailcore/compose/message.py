"""Writing and sending mail: recipients checked strictly, the message built only by the `email`
package with its SMTP policy (so the wire always carries exactly one end of data), sent over the
account's verified TLS, and a copy filed in Sent unless the provider files it itself."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr, parsedate_to_datetime
from html import escape

from imapclient import IMAPClient

from mailcore import errors
from mailcore.compose import rich
from mailcore.models import Account
from mailcore.reading.render import attachments_of, parse, safe_filename
from mailcore.settings import ServerSettings

MAX_ATTACHMENTS_BYTES = 20 * 1024 * 1024
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# Providers that file sent mail in Sent themselves; a second copy would be a duplicate.
FILES_SENT_ITSELF = {"gmail", "outlook", "microsoft365", "yahoo", "aol"}


class InvalidRecipients(ValueError):
    def __init__(self, bad: list[str]):
        super().__init__(", ".join(bad))
        self.bad = bad


class InvalidHeader(ValueError):
    """A subject or name with a line break in it."""


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Inline:
    """An image the HTML shows by `cid:` (the signature's logo)."""
    cid: str
    content_type: str
    data: bytes


@dataclass
class Draft:
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    references: str = ""
    attachments: list[Upload] = field(default_factory=list)
    html: str = ""  # the editor's formatting, when it has any; cleaned before it is sent or saved
    inline: list[Inline] = field(default_factory=list)


def parse_recipients(text: str) -> list[tuple[str, str]]:
    """Each recipient as (name, address), refusing any string that reads as one address but parses
    as another, or that carries a line break: what is shown is what is sent to."""
    if not text.strip():
        return []
    if "\r" in text or "\n" in text or "\x00" in text:
        raise InvalidRecipients([text.strip()[:80]])
    pieces = [p.strip() for p in re.split(r"[,;](?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text) if p.strip()]
    found, bad = [], []
    for piece in pieces:
        parsed = getaddresses([piece])
        if len(parsed) != 1:
            bad.append(piece)
            continue
        name, address = parsed[0]
        shown = re.findall(r"[^\s<>(),;:\"]+@[^\s<>(),;:\"]+", piece)
        if not _ADDRESS.match(address or "") or len(shown) != 1 or shown[0] != address \
                or piece.count("<") != piece.count(">") or piece.count("<") > 1 or "(" in piece:
            bad.append(piece)
            continue
        found.append((name.strip(), address))
    if bad:
        raise InvalidRecipients(bad)
    return found


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def written_address(pair: tuple[str, str]) -> str:
    """A name and address as a person types them ("Åsa Öberg <asa@kund.example>"), the name quoted
    where it needs it but never MIME-encoded (formataddr's =?utf-8?...?= is for headers, not for a
    form): what the compose form shows, and what parse_recipients reads back."""
    name, address = " ".join(pair[0].split()), pair[1]
    if not name:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def _no_breaks(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise InvalidHeader(value[:80])
    return value


def build_message(sender_name: str, from_address: str, draft: Draft) -> tuple[EmailMessage, list[str]]:
    """The message and its envelope recipients (To, Cc and Bcc; Bcc appears in no header)."""
    to, cc, bcc = (parse_recipients(draft.to), parse_recipients(draft.cc), parse_recipients(draft.bcc))
    if not (to or cc or bcc):
        raise InvalidRecipients([])
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((_no_breaks(sender_name), from_address))
    if to:
        message["To"] = ", ".join(formataddr(r) for r in to)
    if cc:
        message["Cc"] = ", ".join(formataddr(r) for r in cc)
    message["Subject"] = _no_breaks(draft.subject)
    message["Date"] = format_datetime(_now())
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2])
    if draft.in_reply_to:
        message["In-Reply-To"] = _no_breaks(draft.in_reply_to)
        message["References"] = _no_breaks(draft.references or draft.in_reply_to)
    _set_body(message, draft)
    return message, [address for _name, address in to + cc + bcc]


def _set_body(message: EmailMessage, draft: Draft) -> None:
    """The text, or (when the draft is formatted) multipart/alternative of a text/plain written from
    the cleaned HTML and the HTML with its inline images beside it (multipart/related); then the
    attachments."""
    html = rich.clean(draft.html, frozenset(i.cid for i in draft.inline)) if draft.html else ""
    if html and rich.is_blank(html):
        html = ""
    text = rich.plain_text(html) if html else draft.body.replace("\r\n", "\n").replace("\r", "\n")
    message.set_content(text)
    if html:
        message.add_alternative(f"<!doctype html><html><head><meta charset=\"utf-8\"></head><body>{html}</body></html>",
                                subtype="html")
        shown = [i for i in draft.inline if f"cid:{i.cid}" in html]
        for image in shown:
            maintype, _, subtype = image.content_type.partition("/")
            message.get_payload()[-1].add_related(image.data, maintype=maintype, subtype=subtype, cid=f"<{image.cid}>",
                                                  disposition="inline")
    for upload in draft.attachments:
        maintype, _, subtype = (upload.content_type or "application/octet-stream").partition("/")
        message.add_attachment(upload.data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=safe_filename(upload.filename))


def _now():
    return datetime.now(UTC)


def transmit(smtp: smtplib.SMTP, message: EmailMessage, from_address: str, recipients: list[str] | None,
             server: ServerSettings) -> None:
    """Hand the message to an open SMTP session (to `recipients`, or None: those its headers name); a
    refused recipient or a dropped connection raises."""
    where = (errors.OUTGOING, server.host, server.port)
    try:
        refused = smtp.send_message(message, from_addr=from_address, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        raise errors.RecipientRefused(", ".join(exc.recipients)).on(*where) from None
    except smtplib.SMTPResponseException as exc:
        raise errors.ProtocolFailure(f"{exc.smtp_code} {exc.smtp_error!r}").on(*where) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise errors.ProtocolFailure(str(exc)).on(*where) from None
    if refused:
        raise errors.RecipientRefused(", ".join(refused)).on(*where)


def append(client: IMAPClient, folder_name: str, message: EmailMessage, flags: tuple[bytes, ...],
           raw: bytes | None = None) -> int | None:
    """APPEND a message (or its bytes, when the caller has them already) to a folder; its UID where
    the server says (UIDPLUS), else None."""
    answer = client.append(folder_name, raw or message.as_bytes(policy=SMTP), flags=flags, msg_time=_now())
    found = re.search(rb"APPENDUID \d+ (\d+)", answer or b"")
    return int(found.group(1)) if found else None


def delete_in(client: IMAPClient, folder_name: str, uid: int) -> None:
    client.select_folder(folder_name)
    client.add_flags([uid], [b"\\Deleted"], silent=True)
    client.uid_expunge([uid])


def draft_message(sender_name: str, from_address: str, draft: Draft) -> EmailMessage:
    """What is saved in Drafts while the user writes: what parses goes in, nothing is refused, and
    nothing with a line break reaches a header."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((" ".join(sender_name.split()), from_address))
    for header, value in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
        try:
            parsed = parse_recipients(value)
        except InvalidRecipients:
            parsed = []
        if parsed:
            message[header] = ", ".join(formataddr(r) for r in parsed)
    message["Subject"] = " ".join(draft.subject.split())
    message["Date"] = format_datetime(_now())
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2])
    _set_body(message, draft)  # a draft keeps its formatting and attachments, so opening it brings them back
    return message


def files_sent_itself(account: Account) -> bool:
    return (account.provider_id or "") in FILES_SENT_ITSELF


def prefixed(prefix: str, subject: str) -> str:
    stripped = subject.strip()
    return stripped if stripped.lower().startswith(prefix.lower()) else f"{prefix} {stripped}".strip()


def quote(text: str, intro: str) -> str:
    lines = "\n".join("> " + line for line in text.splitlines())
    return f"\n\n{intro}\n{lines}\n"


def _quote_formatted(draft: Draft, original: EmailMessage, above: str, *, cite: bool) -> None:
    """A formatted original is quoted as it looked (its HTML, cleaned, in a blockquote for a reply); a
    plain one leaves the draft plain."""
    part = original.get_body(preferencelist=("html",))
    if part is None:
        return
    try:
        source = part.get_content()
    except (LookupError, UnicodeError):
        source = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    quoted = rich.clean(rich.document_body(source))  # its own inline images stay with it, not in the quote
    draft.html = "<div><br></div>" + above + (f'<blockquote type="cite">{quoted}</blockquote>' if cite else quoted)


def _written_on(original: EmailMessage) -> datetime | None:
    """The original's Date, or None when it has none that parses."""
    try:
        return parsedate_to_datetime(" ".join(str(original.get("Date", "")).split()))
    except (TypeError, ValueError, IndexError):
        return None


def answer(raw: bytes, mode: str, me: str, text: str,
           intro: Callable[..., str] = lambda when, who: f"{when}, {who}:" if when else f"{who}:",
           forwarded: Callable[[dict], str] | None = None) -> Draft:
    """A reply, reply-all or forward of a message, pre-filled as mail programs do. `intro(when, who)`
    words the line above a reply's quote (in the user's language) from the date (a datetime, or None)
    and the sender's name; `forwarded(fields)` the header block above a forwarded message's text."""
    original = parse(raw)
    subject = " ".join(str(original.get("Subject", "")).split())  # decoded CR/LF cannot travel on
    sender_name, sender = parseaddr(" ".join(str(original.get("Reply-To") or original.get("From", "")).split()))
    from_name, from_address = parseaddr(" ".join(str(original.get("From", "")).split()))
    message_id = " ".join(str(original.get("Message-ID", "")).split())
    references = " ".join((" ".join(str(original.get("References", "")).split()) + " " + message_id).split())
    when = _written_on(original)
    if mode == "forward":
        fields = {"from": written_address((from_name, from_address)) if from_address else "", "date": when,
                  "subject": subject, "to": " ".join(str(original.get("To", "")).split()),
                  "cc": " ".join(str(original.get("Cc", "")).split())}
        block = forwarded(fields) if forwarded else ""
        draft = Draft(subject=prefixed("Fwd:", subject), body=f"\n\n{block}\n\n{text.rstrip()}\n")
        draft.attachments = [Upload(item.filename, item.content_type, part.get_payload(decode=True) or b"")
                             for item, part in attachments_of(original) if not item.inline]
        lines = "<br>".join(map(escape, block.split("\n")))
        _quote_formatted(draft, original, f"<div>{lines}</div><div><br></div>", cite=False)
        return draft
    said = intro(when, from_name or from_address or sender)
    draft = Draft(to=written_address((sender_name, sender)) if sender else "", subject=prefixed("Re:", subject),
                  body=quote(text, said), in_reply_to=message_id, references=references)
    _quote_formatted(draft, original, f"<div>{escape(said)}</div>", cite=True)
    if mode == "all":
        shown = original.get_all("To", []) + original.get_all("Cc", [])
        others = getaddresses([" ".join(str(v).split()) for v in shown])
        draft.cc = ", ".join(written_address(p) for p in others
                             if p[1] and p[1].lower() not in (me.lower(), sender.lower()))
    return draft
