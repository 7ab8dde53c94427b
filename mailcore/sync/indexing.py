"""Filling the search index, as the last step of a sync pass: after the lists and the previews,
so it never delays new mail; bounded per pass, so a click or the next sync never waits long for it.

Every message's list fields are indexed at once (local work: thousands a second). Bodies the sync
has not fetched are fetched for the index a bounded number per pass (`SEARCH_BODIES_PER_SYNC`,
newest first); while some are missing the account's next sync comes sooner (`SOON`), so the
scheduler that runs syncs anyway (embedded or queue worker) carries the work on, with no thread or
loop of its own. What is indexed is marked per message (`search_state`): a pass cut off anywhere
resumes where it stopped.
"""

from __future__ import annotations

import email
import email.policy
import logging
import time
from datetime import timedelta
from email.message import Message as EmailMessage

from imapclient import IMAPClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailcore.connect import MailClient
from mailcore.envelope import decode_header
from mailcore.imapsets import uid_set
from mailcore.models import Folder, Message
from mailcore.reading.message import html_to_text
from mailcore.search.index import LISTED, MAX_BODY, NOT_INDEXED, WHOLE, plain, store, texts_of_rows

log = logging.getLogger(__name__)
LISTED_PER_PASS = 20_000  # list fields indexed per pass (about a second)
BODY_BYTES = 256 * 1024  # of each message: its text's first 200 KB, and the names of its attachments there
BODY_BATCH = 100
BODY_SECONDS = 3.0  # a pass fetches bodies for at most this long
SOON = timedelta(seconds=15)  # the next sync while bodies are still missing


def index_listed(db: Session, folders: list[Folder], limit: int = LISTED_PER_PASS) -> int:
    """Index the list fields of messages not in the index yet (a message opened since has its text
    indexed with them); how many."""
    done = 0
    for folder in folders:
        while done < limit:
            rows = db.execute(select(Message.id, Message.subject, Message.sender_name, Message.sender_address,
                                     Message.recipients, Message.body_text)
                              .where(Message.folder_id == folder.id, Message.search_state < WHOLE,
                                     Message.search_state == NOT_INDEXED)  # < WHOLE: the partial index
                              .order_by(Message.id.desc()).limit(min(2000, limit - done))).all()
            if not rows:
                break
            texts = texts_of_rows(rows)
            opened = {row.id: row.body_text for row in rows if row.body_text}
            for item in texts:
                if item["message_id"] in opened:
                    item["body"] = plain(opened[item["message_id"]][:MAX_BODY])
            whole = [t for t in texts if t["message_id"] in opened]
            store(db, [t for t in texts if t["message_id"] not in opened], LISTED)
            store(db, whole, WHOLE)
            db.commit()
            done += len(rows)
    return done


def bodies_missing(db: Session, folder: Folder) -> list[tuple[int, int]]:
    """(id, UID) of the folder's messages indexed without their body, newest first."""
    return list(db.execute(select(Message.id, Message.uid).where(Message.folder_id == folder.id,
                                                                  Message.search_state < WHOLE,  # partial index
                                                                  Message.search_state == LISTED)
                           .order_by(Message.uid.desc())).all())


def fetch_bodies(db: Session, client: MailClient, folders: list[Folder], limit: int,
                 seconds: float = BODY_SECONDS, held=lambda: None) -> bool:
    """Fetch up to `limit` missing bodies, newest first, folder by folder; whether any are left."""
    started, left = time.monotonic(), limit
    for folder in folders:
        missing = bodies_missing(db, folder)
        if not missing:
            continue
        if left <= 0 or time.monotonic() - started > seconds:
            return True
        info = client.select_folder(folder.name, readonly=True)
        if int(info.get(b"UIDVALIDITY", 0)) != folder.uidvalidity:
            return True  # renumbered: the next sync starts the folder over
        for start in range(0, min(len(missing), left), BODY_BATCH):
            batch = missing[start:min(start + BODY_BATCH, left)]
            ids = {uid: message_id for message_id, uid in batch}
            try:
                fetched = client.fetch_set(uid_set(sorted(ids)), [f"BODY.PEEK[]<0.{BODY_BYTES}>"])
            except IMAPClient.AbortError:
                raise
            except (IMAPClient.Error, ValueError) as exc:
                log.info("bodies for the index could not be fetched (%s)", type(exc).__name__)
                fetched = {}
            texts, gone = [], []
            for uid, message_id in ids.items():
                raw = next((v for k, v in fetched.get(uid, {}).items()
                            if isinstance(k, bytes) and k.startswith(b"BODY[")), None)
                if isinstance(raw, bytes):
                    texts.append(texts_of_raw(message_id, raw))
                else:
                    gone.append(message_id)
            store(db, texts, WHOLE)
            # a message the server no longer gives keeps its list fields in the index; no pass asks again
            db.execute(update(Message).where(Message.id.in_(gone)).values(search_state=WHOLE))
            held()
            db.commit()
            left -= len(batch)
            if time.monotonic() - started > seconds:
                return True
        if len(missing) > limit:
            return True
    return any(bodies_missing(db, f) for f in folders)


def texts_of_raw(message_id: int, raw: bytes) -> dict:
    """The index's words of a whole message: its headers, its text and its attachments' names."""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
        body, names = _text_and_names(parsed)
        subject = decode_header(parsed.get("Subject", ""))
        sender = decode_header(parsed.get("From", ""))
        recipients = " ".join(decode_header(v) for k in ("To", "Cc") for v in parsed.get_all(k, []))
    except Exception:  # a message too broken to take apart is indexed as its bytes
        body, names, subject, sender, recipients = raw.decode("utf-8", "replace"), [], "", "", ""
    return {"message_id": message_id, "subject": plain(subject), "sender": plain(sender),
            "recipients": plain(recipients), "attachments": plain(" ".join(names)), "body": plain(body[:MAX_BODY])}


def _decoded(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _text_and_names(parsed: EmailMessage) -> tuple[str, list[str]]:
    plain_text = html = None
    names = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename:
            names.append(decode_header(filename))
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain_text is None:
            plain_text = _decoded(part)
        elif kind == "text/html" and html is None:
            html = _decoded(part)
    if plain_text is not None:
        return plain_text, names
    return (html_to_text(html[:MAX_BODY * 4]) if html else ""), names


def progress(db: Session, account_id: int) -> dict[int, int]:
    """Per folder still being indexed: the share of its messages whose body is indexed, in percent."""
    pending = dict(db.execute(select(Message.folder_id, func.count()).join(Folder)
                              .where(Folder.account_id == account_id, Message.search_state < WHOLE)
                              .group_by(Message.folder_id)).all())
    if not pending:
        return {}
    totals = dict(db.execute(select(Folder.id, Folder.total).where(Folder.id.in_(pending))).all())
    return {fid: min(99, int(100 * (totals.get(fid, 0) - count) / totals[fid])) if totals.get(fid) else 0
            for fid, count in pending.items()}
