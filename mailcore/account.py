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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from imapclient import IMAPClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from mailcore import errors
from mailcore.compose import message as compose
from mailcore.connect import MailEnvironment, imap_session, smtp_session
from mailcore.crypto import SecretBox, SecretBoxError
from mailcore.imapsets import uid_set
from mailcore.models import Account, Folder, Message, utcnow
from mailcore.oauth.tokens import OAUTH2, TokenKeeper
from mailcore.reading import message as reading
from mailcore.settings import AccountSettings, Bearer, Credentials, Secret, ServerSettings
from mailcore.sync import summaries


def _context(account: Account, side: str) -> str:
    """Associated data that binds a sealed password to its row and side."""
    return f"account:{account.id}:user:{account.user_id}:{side}"


def seal_credentials(account: Account, box: SecretBox, credentials: Credentials) -> None:
    """Store both passwords sealed to this row (which must have its id already); a side that signs
    in with OAuth stores none (its tokens live in the account's OAuthGrant)."""
    def seal(secret: Secret, side: str) -> bytes:
        return box.seal(secret, _context(account, side)) if isinstance(secret, str) else b""

    account.imap_password = seal(credentials.incoming_password, "imap")
    account.smtp_password = seal(credentials.outgoing_password, "smtp")


def credentials_of(account: Account, box: SecretBox) -> Credentials:
    """The account's passwords ("" for a side that signs in with OAuth); SecretUnreadable when the key
    changed or the row was tampered with."""
    def unseal(sealed: bytes, side: str, auth: str) -> str:
        return "" if auth == OAUTH2 else box.open(sealed, _context(account, side))

    try:
        return Credentials(unseal(account.imap_password, "imap", account.imap_auth),
                           unseal(account.smtp_password, "smtp", account.smtp_auth))
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
    env: MailEnvironment | Callable[[], MailEnvironment]  # a callable is asked when a session first opens
    box: SecretBox
    tokens: TokenKeeper | None = None

    def _env(self) -> MailEnvironment:
        return self.env if isinstance(self.env, MailEnvironment) else self.env()

    @property
    def settings(self) -> AccountSettings:
        return settings_of(self.row)

    @property
    def credentials(self) -> Credentials:
        return credentials_of(self.row, self.box)

    # --- sessions --------------------------------------------------------------------------------

    def _secret(self, side: str, server: ServerSettings, rejected: Secret | None = None) -> Secret:
        """The side's password, or a current OAuth access token (a new one if `rejected` was refused)."""
        if (self.row.imap_auth if side == errors.INCOMING else self.row.smtp_auth) != OAUTH2:
            credentials = self.credentials
            return credentials.incoming_password if side == errors.INCOMING else credentials.outgoing_password
        if self.tokens is None:
            raise errors.SignInAgain("OAuth is not available here").on(side, server.host, server.port)
        try:
            return Bearer(self.tokens.access_token(self.row.id, rejected.token if rejected else None))
        except errors.MailError as exc:
            raise exc.on(side, server.host, server.port) from None

    def _logged_in(self, stack: ExitStack, open_session: Callable, side: str, server: ServerSettings):
        """Enter a session; an access token that the server refuses is refreshed once and tried again."""
        secret = self._secret(side, server)
        try:
            return stack.enter_context(open_session(server, secret, self._env()))
        except errors.AuthenticationFailed:
            if not isinstance(secret, Bearer):
                raise
        return stack.enter_context(open_session(server, self._secret(side, server, rejected=secret), self._env()))

    @contextmanager
    def imap(self) -> Iterator[IMAPClient]:
        """A logged-in session on the incoming server; any protocol or socket failure inside it
        becomes a MailError of the incoming side."""
        server = self.settings.incoming
        with ExitStack() as stack:
            client = self._logged_in(stack, imap_session, errors.INCOMING, server)
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

    def move(self, messages: list[Message], target: Folder) -> dict[int, dict[int, int]]:
        """MOVE where the server has it; else COPY, then flag and expunge just these (UIDPLUS) or
        the folder's deleted ones. Per source folder id, each moved UID's new UID in the target,
        where the server says (what Undo moves back)."""
        groups = {f: items for f, items in self._by_folder(messages).items() if f.id != target.id}
        copied: dict[int, dict[int, int]] = {}
        with self.imap() as client:
            can_move = b"MOVE" in client.capabilities()
            for folder, items in groups.items():
                client.select_folder(folder.name)
                uids = [m.uid for m in items]
                copied[folder.id] = client.transfer(uids, target.name, keep=not can_move)
                if can_move:
                    continue
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
        return copied

    def move_back(self, moved_to: Folder, uids: list[int], home: Folder) -> None:
        """Undo of a move: the messages with these UIDs in `moved_to` go back to `home`."""
        with self.imap() as client:
            client.select_folder(moved_to.name)
            if b"MOVE" in client.capabilities():
                client.move(uids, home.name)
            else:  # Undo is offered only where the server gave COPYUID, so it has UIDPLUS
                client.copy(uids, home.name)
                client.add_flags(uids, [b"\\Deleted"], silent=True)
                client.uid_expunge(uid_set(uids))
        removed = self.db.execute(delete(Message).where(Message.folder_id == moved_to.id,
                                                        Message.uid.in_(uids))).rowcount
        if removed:
            moved_to.total = max(0, moved_to.total - removed)
            moved_to.version += 1
        self.row.next_sync_at = utcnow()
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
        with ExitStack() as stack:
            smtp = self._logged_in(stack, smtp_session, errors.OUTGOING, server)
            compose.transmit(smtp, message, self.row.address, recipients, server)

    def file_copy(self, message: EmailMessage, folder_name: str, flags: tuple[bytes, ...]) -> int | None:
        """APPEND the message to a folder (Sent with \\Seen); its UID where the server says (UIDPLUS)."""
        with self.imap() as client:
            return compose.append(client, folder_name, message, flags)

    def delete_draft(self, folder_name: str, uid: int) -> None:
        with self.imap() as client:
            compose.delete_in(client, folder_name, uid)
