"""Undo of Move and Delete: the messages go back where they came from, found by the UIDs the server
gave them in the folder they were moved to (COPYUID, from UIDPLUS)."""

from __future__ import annotations

import re

from imapclient import IMAPClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .connect import MailEnvironment
from .crypto import SecretBox
from .models import Account, Folder, Message, utcnow
from .services import account_imap


def copied_uids(client: IMAPClient, answer) -> dict[int, int]:  # noqa: ANN001 - the command's answer
    """Old UID -> new UID from a MOVE's or COPY's COPYUID (in its answer or an untagged OK)."""
    texts = [answer, *client._imap.untagged_responses.pop("OK", [])]  # noqa: SLF001
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace")
        found = re.search(r"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]", str(text or ""))
        if found:
            old, new = _uids(found[1]), _uids(found[2])
            if len(old) == len(new):
                return dict(zip(old, new, strict=True))
    return {}


def _uids(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        start, end = int(low), int(high or low)
        found.extend(range(start, end + 1) if start <= end else range(start, end - 1, -1))
    return found


def move_back(db: Session, account: Account, moved_to: Folder, uids: list[int], home: Folder,
              env: MailEnvironment, box: SecretBox) -> None:
    """Move the messages with these UIDs in `moved_to` back to `home`."""
    with account_imap(account, box, env) as client:
        client.select_folder(moved_to.name)
        if b"MOVE" in client.capabilities():
            client.move(uids, home.name)
        else:
            client.copy(uids, home.name)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            client.uid_expunge(uids)
    removed = db.execute(delete(Message).where(Message.folder_id == moved_to.id, Message.uid.in_(uids))).rowcount
    if removed:
        moved_to.total = max(0, moved_to.total - removed)
        moved_to.version += 1
    account.next_sync_at = utcnow()
    db.commit()
