"""Copies of sent mail that could not be put in Sent when they were sent (the incoming server did not
answer): kept in the database (`UnfiledSentCopy`) and filed by the next sync that reaches the server.

Filed at most once: a copy whose Message-ID Sent already has is not appended again (a sync cut off
between APPEND and the delete of its row finds it there), and one sync per account runs at a time."""

from __future__ import annotations

import logging
from email import message_from_bytes
from email.policy import SMTP

from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailcore.compose import message as compose
from mailcore.models import Account, Folder, Role, UnfiledSentCopy
from mailcore.sync import appended

log = logging.getLogger(__name__)


def keep(db: Session, account: Account, raw: bytes, message_id: str) -> None:
    """Keep a sent message's copy until a sync can file it in Sent; the caller commits."""
    db.add(UnfiledSentCopy(account_id=account.id, raw=raw, message_id=" ".join(message_id.split())[:998]))


def taken_from(db: Session, account: Account) -> list[tuple[str, bytes]]:
    """The account's kept copies (Message-ID, bytes), for the account that replaces it (set up again)."""
    return [(c.message_id, c.raw) for c in db.scalars(select(UnfiledSentCopy).where(
        UnfiledSentCopy.account_id == account.id).order_by(UnfiledSentCopy.id))]


def file_unfiled(db: Session, account: Account, client: IMAPClient, folders: list[Folder]) -> int:
    """File every kept copy of the account in its Sent folder; how many were appended."""
    copies = list(db.scalars(select(UnfiledSentCopy).where(UnfiledSentCopy.account_id == account.id)
                             .order_by(UnfiledSentCopy.id)))
    sent = next((f for f in folders if f.role == Role.SENT), None)
    if not copies or sent is None:
        return 0  # without a Sent folder they wait: none is lost
    appended_count = 0
    for copy in copies:
        try:
            if copy.message_id and _in_folder(client, sent.name, copy.message_id):
                uid = None
            else:
                uid = compose.append(client, sent.name, None, (b"\\Seen",), raw=copy.raw)
                appended_count += 1
        except IMAPClient.Error as exc:  # refused (Sent full, gone): kept for a later sync, the sync goes on
            log.warning("account %s: a kept copy could not be filed in Sent: %s", account.id, exc)
            break
        db.delete(copy)
        db.commit()
        if uid is not None:
            appended.list_message(db, sent, uid, message_from_bytes(copy.raw, policy=SMTP), raw=copy.raw)
    log.info("account %s: %d kept copies filed in Sent", account.id, appended_count)
    return appended_count


def _in_folder(client: IMAPClient, folder_name: str, message_id: str) -> bool:
    client.select_folder(folder_name, readonly=True)
    return bool(client.search(["HEADER", "Message-ID", message_id]))
