"""Acting on messages: marking read or unread and moving, written to the server first. The database
changes only when the server has agreed, so a refusal leaves both showing the true state."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from .connect import MailEnvironment
from .crypto import SecretBox
from .models import Account, Folder, Message, utcnow
from .services import account_imap
from .sync import uid_set
from .undo import copied_uids


def _by_folder(db: Session, messages: list[Message]) -> dict[Folder, list[Message]]:
    groups: dict[Folder, list[Message]] = defaultdict(list)
    for message in messages:
        groups[db.get(Folder, message.folder_id)].append(message)
    return groups


def set_seen(db: Session, account: Account, messages: list[Message], seen: bool,
             env: MailEnvironment, box: SecretBox) -> None:
    groups = _by_folder(db, messages)
    with account_imap(account, box, env) as client:
        for folder, items in groups.items():
            client.select_folder(folder.name)
            uids = [m.uid for m in items]
            (client.add_flags if seen else client.remove_flags)(uids, [b"\\Seen"], silent=True)
    for folder, items in groups.items():
        changed = [m for m in items if m.seen != seen]
        db.execute(update(Message).where(Message.id.in_([m.id for m in items])).values(seen=seen))
        folder.unread = max(0, folder.unread + (-len(changed) if seen else len(changed)))
        folder.version += 1
    db.commit()


def move(db: Session, account: Account, messages: list[Message], target: Folder,
         env: MailEnvironment, box: SecretBox) -> dict[int, dict[int, int]]:
    """Per source folder id, each moved UID's new UID in the target, where the server says (for Undo)."""
    groups = _by_folder(db, messages)
    copied: dict[int, dict[int, int]] = {}
    with account_imap(account, box, env) as client:
        can_move = b"MOVE" in client.capabilities()
        for folder, items in groups.items():
            if folder.id == target.id:
                continue
            client.select_folder(folder.name)
            uids = [m.uid for m in items]
            client._imap.untagged_responses.pop("OK", None)  # noqa: SLF001 - only this command's COPYUID
            if can_move:
                copied[folder.id] = copied_uids(client, client.move(uids, target.name))
            else:  # COPY, then flag and expunge just these (UIDPLUS), or the folder's deleted ones
                copied[folder.id] = copied_uids(client, client.copy(uids, target.name))
                client.add_flags(uids, [b"\\Deleted"], silent=True)
                if b"UIDPLUS" in client.capabilities():
                    client.uid_expunge(uid_set(uids))
                else:
                    client.expunge()
    for folder, items in groups.items():
        if folder.id == target.id:
            continue
        db.execute(delete(Message).where(Message.id.in_([m.id for m in items])))
        folder.total = max(0, folder.total - len(items))
        folder.unread = max(0, folder.unread - sum(1 for m in items if not m.seen))
        folder.version += 1
    account.next_sync_at = utcnow()  # the target folder learns its new messages at the next sync
    db.commit()
    return copied


def subscribe(db: Session, account: Account, folder: Folder, env: MailEnvironment, box: SecretBox) -> None:
    with account_imap(account, box, env) as client:
        client.subscribe_folder(folder.name)
    folder.subscribed = True
    db.commit()
