"""One connected account: its row, its sealed credentials, its sessions, and what views and jobs do
with its mail.

A `MailAccount` is built per request (`blueprints.web.mail_account`) or per job
(`Installation.account`) from a database session and the installation's environment, so nothing
else threads the environment and the secret box through its calls. Every change is written to the
server first; the database follows only when the server has agreed, so a refusal leaves both
showing the true state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from imapclient import IMAPClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from . import compose, errors, reading, summaries
from .connect import MailEnvironment, imap_session, smtp_session
from .crypto import SecretBox, SecretBoxError
from .imapsets import uid_set
from .models import Account, Folder, Message, utcnow
from .settings import AccountSettings, Credentials, ServerSettings


def _context(account: Account, side: str) -> str:
    """Associated data that binds a sealed password to its row and side."""
    return f"account:{account.id}:user:{account.user_id}:{side}"


def seal_credentials(account: Account, box: SecretBox, credentials: Credentials) -> None:
    """Store both passwords sealed to this row (which must have its id already)."""
    account.imap_password = box.seal(credentials.incoming_password, _context(account, "imap"))
    account.smtp_password = box.seal(credentials.outgoing_password, _context(account, "smtp"))


def credentials_of(account: Account, box: SecretBox) -> Credentials:
    """The account's passwords; SecretUnreadable when the key changed or the row was tampered with."""
    try:
        return Credentials(box.open(account.imap_password, _context(account, "imap")),
                           box.open(account.smtp_password, _context(account, "smtp")))
    except SecretBoxError:
        raise errors.SecretUnreadable().on(errors.INCOMING, account.imap_host, account.imap_port) from None


def settings_of(account: Account) -> AccountSettings:
    return AccountSettings(
        account.address,
        ServerSettings(account.imap_host, account.imap_port, account.imap_ssl, account.imap_username),
        ServerSettings(account.smtp_host, account.smtp_port, account.smtp_ssl, account.smtp_username),
    )


@dataclass
class MailAccount:
    db: Session
    row: Account
    env: MailEnvironment
    box: SecretBox

    @property
    def settings(self) -> AccountSettings:
        return settings_of(self.row)

    @property
    def credentials(self) -> Credentials:
        return credentials_of(self.row, self.box)

    # --- sessions --------------------------------------------------------------------------------

    @contextmanager
    def imap(self) -> Iterator[IMAPClient]:
        """A logged-in session on the incoming server; any protocol or socket failure inside it
        becomes a MailError of the incoming side."""
        server = self.settings.incoming
        with imap_session(server, self.credentials.incoming_password, self.env) as client:
            try:
                yield client
            except errors.MailError:
                raise
            except (IMAPClient.Error, OSError, EOFError) as exc:
                raise errors.ProtocolFailure(str(exc)).on(errors.INCOMING, server.host, server.port) from None

    # --- reading ---------------------------------------------------------------------------------

    def raw_message(self, message: Message) -> bytes:
        """The message as the server has it (cut at reading.MAX_FETCH), fetched once and then kept."""
        if message.raw is not None:
            return message.raw
        folder = self.db.get(Folder, message.folder_id)
        with self.imap() as client:
            raw = reading.fetch_raw(client, folder.name, message.uid)
        if raw is None:
            raise errors.ProtocolFailure("the message is no longer on the server").on(
                errors.INCOMING, self.row.imap_host, self.row.imap_port)
        message.raw = raw
        message.body_text = reading.text_of(raw)
        summaries.correct_paperclip(self.db, message, raw)
        self.db.commit()
        return raw

    # --- acting on messages ----------------------------------------------------------------------

    def _by_folder(self, messages: list[Message]) -> dict[Folder, list[Message]]:
        groups: dict[Folder, list[Message]] = defaultdict(list)
        for message in messages:
            groups[self.db.get(Folder, message.folder_id)].append(message)
        return groups

    def set_seen(self, messages: list[Message], seen: bool) -> None:
        """Mark as read or unread."""
        groups = self._by_folder(messages)
        with self.imap() as client:
            for folder, items in groups.items():
                client.select_folder(folder.name)
                (client.add_flags if seen else client.remove_flags)([m.uid for m in items], [b"\\Seen"],
                                                                    silent=True)
        for folder, items in groups.items():
            changed = sum(1 for m in items if m.seen != seen)
            self.db.execute(update(Message).where(Message.id.in_([m.id for m in items])).values(seen=seen))
            folder.unread = max(0, folder.unread + (-changed if seen else changed))
            folder.version += 1
        self.db.commit()

    def move(self, messages: list[Message], target: Folder) -> None:
        """MOVE where the server has it; else COPY, then flag and expunge just these (UIDPLUS) or
        the folder's deleted ones."""
        groups = {f: items for f, items in self._by_folder(messages).items() if f.id != target.id}
        with self.imap() as client:
            can_move = b"MOVE" in client.capabilities()
            for folder, items in groups.items():
                client.select_folder(folder.name)
                uids = [m.uid for m in items]
                if can_move:
                    client.move(uids, target.name)
                    continue
                client.copy(uids, target.name)
                client.add_flags(uids, [b"\\Deleted"], silent=True)
                if b"UIDPLUS" in client.capabilities():
                    client.uid_expunge(uid_set(uids))
                else:
                    client.expunge()
        for folder, items in groups.items():
            self.db.execute(delete(Message).where(Message.id.in_([m.id for m in items])))
            folder.total = max(0, folder.total - len(items))
            folder.unread = max(0, folder.unread - sum(1 for m in items if not m.seen))
            folder.version += 1
        self.row.next_sync_at = utcnow()  # the target folder learns its new messages at the next sync
        self.db.commit()

    def subscribe(self, folder: Folder) -> None:
        with self.imap() as client:
            client.subscribe_folder(folder.name)
        folder.subscribed = True
        self.db.commit()

    # --- sending ---------------------------------------------------------------------------------

    def send(self, message: EmailMessage, recipients: list[str]) -> None:
        """Send over the outgoing server; a refused recipient or a dropped connection raises."""
        server = self.settings.outgoing
        with smtp_session(server, self.credentials.outgoing_password, self.env) as smtp:
            compose.transmit(smtp, message, self.row.address, recipients, server)

    def file_copy(self, message: EmailMessage, folder_name: str, flags: tuple[bytes, ...]) -> None:
        """APPEND the message to a folder (Sent with \\Seen)."""
        with self.imap() as client:
            compose.append(client, folder_name, message, flags)

    def save_draft(self, message: EmailMessage, folder_name: str, replaces: int | None) -> int | None:
        """APPEND to Drafts and remove the draft it replaces; the new draft's UID (UIDPLUS) or None."""
        with self.imap() as client:
            uid = compose.append(client, folder_name, message, (b"\\Draft", b"\\Seen"))
            if replaces:
                compose.delete_in(client, folder_name, replaces)
        return uid

    def delete_draft(self, folder_name: str, uid: int) -> None:
        with self.imap() as client:
            compose.delete_in(client, folder_name, uid)
