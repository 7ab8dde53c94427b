"""Messages this app stores on the server itself (a Sent copy, a draft) go into the list at once,
from the bytes it already has, instead of waiting for the next sync to find them. The sync's own
writes are idempotent on (folder, UID), so it later agrees with these rows instead of doubling them."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailcore.envelope import as_utc, decode_header
from mailcore.models import Folder, Message, utcnow
from mailcore.reading.message import MAX_TEXT
from mailcore.sync import conversations
from mailcore.threading import message_key, reference_keys


def recipients_of(message: EmailMessage) -> str:
    """To (else Cc) as the list shows it: names where there are names."""
    pairs = getaddresses([str(v) for v in message.get_all("To", []) or message.get_all("Cc", [])])
    return decode_header(", ".join(name or address for name, address in pairs if name or address), 1000)


def list_message(db: Session, folder: Folder, uid: int | None, message: EmailMessage, seen: bool = True,
                 raw: bytes | None = None) -> None:
    """Put a message we just stored into the folder's list, with its text, so it opens without a fetch."""
    if uid is None:
        return  # no UID to key it by: the next sync brings it
    raw = raw or message.as_bytes(policy=SMTP)
    if db.scalar(select(Message.id).where(Message.folder_id == folder.id, Message.uid == uid)) is not None:
        return
    name, address = parseaddr(str(message.get("From", "")))
    try:
        date = as_utc(parsedate_to_datetime(str(message["Date"]))) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    text = _text(message)
    db.add(Message(folder_id=folder.id, uid=uid, seen=seen, flagged=False, answered=False,
                   date=date or as_utc(utcnow()), size=len(raw), sender_name=decode_header(name, 300),
                   sender_address=address[:320], subject=decode_header(str(message.get("Subject", ""))),
                   preview=" ".join(text.split())[:300], recipients=recipients_of(message),
                   has_attachments=any(True for _ in message.iter_attachments()), body_text=text, raw=raw,
                   message_key=message_key(str(message.get("Message-ID", ""))),
                   reference_keys=" ".join(reference_keys(str(message.get("References", "")),
                                                          str(message.get("In-Reply-To", ""))))))
    db.flush()
    conversations.thread_folder(db, folder)  # a reply joins its conversation at once
    folder.total += 1
    folder.unread += 0 if seen else 1
    folder.version += 1
    db.commit()


def _text(message: EmailMessage) -> str:
    """The text of a message we built ourselves: its plain part, read without parsing the bytes again."""
    part = message.get_body(preferencelist=("plain",))
    try:
        return part.get_content().replace("\x00", "")[:MAX_TEXT] if part is not None else ""
    except (LookupError, UnicodeError):
        return ""


def unlist_message(db: Session, folder: Folder, uid: int | None) -> None:
    """Take a message we removed from the server out of the folder's list."""
    if uid is None:
        return
    removed = db.execute(delete(Message).where(Message.folder_id == folder.id, Message.uid == uid)).rowcount
    if removed:
        folder.total = max(0, folder.total - removed)
        folder.version += 1
    db.commit()
