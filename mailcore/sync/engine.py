"""Keeping an account's folders and message lists equal to its IMAP server's.

A first sync goes newest first, in batches committed one by one, so the list's first page exists
within a moment while older mail follows. Later syncs cost what changed: with CONDSTORE an
unchanged folder costs one SELECT; QRESYNC reports flag changes and expunges in one command; a UID
comparison covers servers without them. Every write is idempotent (unique folder + UID), so a sync
cut off anywhere resumes without losing or duplicating a message. A lease in the database (the
`SYNC` lease of mailcore/leases.py) makes one sync per account run at a time, across threads and
processes: renewed while the sync runs, so a long one keeps it, and free within a minute of a
worker killed mid-sync. `claim_due` is how every scheduler (embedded or queue) picks the accounts
whose periodic sync is due. The sync reaches its installation only through a `SyncHost`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from imapclient import IMAPClient
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailcore import errors, leases
from mailcore.connect import MailClient
from mailcore.crm import autoarchive
from mailcore.envelope import decode_header
from mailcore.imapsets import uid_set, vanished_uids
from mailcore.models import Account, Folder, Message, Role, SyncState, utcnow
from mailcore.sync import conversations, indexing, sentcopies, summaries
from mailcore.sync.host import SyncHost

log = logging.getLogger(__name__)

ROLE_FLAGS = {b"\\sent": Role.SENT, b"\\drafts": Role.DRAFTS, b"\\trash": Role.TRASH, b"\\junk": Role.JUNK,
              b"\\archive": Role.ARCHIVE}
# Where a server has no SPECIAL-USE: the names Swedish, English and the big providers' clients use.
ROLE_NAMES = {
    Role.SENT: {"sent", "sent items", "sent messages", "sent mail", "[gmail]/sent mail", "[google mail]/sent mail",
             "skickat", "skickade objekt", "skickade meddelanden", "skickade", "skickad e-post", "inbox.sent"},
    Role.DRAFTS: {"drafts", "draft", "utkast", "[gmail]/drafts", "[google mail]/drafts", "inbox.drafts"},
    Role.TRASH: {"trash", "deleted items", "deleted messages", "bin", "papperskorgen", "papperskorg",
              "borttagna objekt", "borttagna meddelanden", "borttaget", "[gmail]/trash", "[gmail]/bin",
              "[google mail]/trash", "inbox.trash"},
    Role.JUNK: {"junk", "spam", "junk e-mail", "junk email", "bulk mail", "skräppost", "skräp",
             "[gmail]/spam", "[google mail]/spam", "inbox.junk", "inbox.spam"},
    Role.ARCHIVE: {"archive", "archives", "arkiv", "arkivera", "inbox.archive"},
}
LEASE = timedelta(minutes=1)  # renewed every quarter of it while a sync runs
CLAIM = timedelta(minutes=1)  # a due account handed to a worker is not handed out again for this long


UNREACHABLE = (errors.ConnectionRefused, errors.ConnectionTimedOut, errors.HostNotFound, errors.ProtocolFailure,
               errors.SignInServiceFailed)
FIRST_RETRY = timedelta(seconds=30)  # a server that stopped answering is tried again this soon, then less often


def state_after(exc: errors.MailError) -> SyncState:
    """The account's state after this failure of a contact with its server."""
    return (SyncState.SIGN_IN if isinstance(exc, errors.SignInAgain) else
            SyncState.AUTH if isinstance(exc, errors.AuthenticationFailed) else
            SyncState.ALERT if isinstance(exc, errors.ProviderAlert) else
            SyncState.UNREACHABLE if isinstance(exc, UNREACHABLE)
            else SyncState.ERROR)


def record_failure(account: Account, exc: errors.MailError) -> SyncState:
    """An error is a state with a back-off, never a crash: a server that does not answer is tried again
    after 30 s, 1, 2, 4 ... minutes; any other failure after 1, 2, 4 ... minutes; at most an hour. The
    caller commits."""
    state = state_after(exc)
    account.sync_state = state
    account.sync_failures = (account.sync_failures or 0) + 1
    first = FIRST_RETRY if state == SyncState.UNREACHABLE else timedelta(minutes=1)
    account.next_sync_at = utcnow() + min(timedelta(hours=1), first * 2 ** min(12, account.sync_failures - 1))
    account.last_error_at = utcnow()
    account.last_error_kind = exc.code
    account.last_error_side = exc.side or errors.INCOMING
    account.last_error_detail = exc.detail[:1000]
    return state


@dataclass
class SyncSummary:
    account_id: int
    state: SyncState = SyncState.OK
    folders: int = 0
    messages: int = 0  # stored after the sync, all folders
    fetched: int = 0  # new message summaries fetched by this sync
    seconds: float = 0.0
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def folder_role(name: str, flags: Iterable[bytes], delimiter: str | None) -> str | None:
    if name.upper() == "INBOX":
        return Role.INBOX
    for flag in flags:
        role = ROLE_FLAGS.get(flag.lower() if isinstance(flag, bytes) else str(flag).lower().encode())
        if role:
            return role
    lowered = name.lower()
    leaf = lowered.rsplit(delimiter, 1)[-1] if delimiter else lowered
    for role, names in ROLE_NAMES.items():
        if lowered in names or leaf in names:
            return role
    return None


def _batches(items: list, first: int, size: int) -> Iterator[list]:
    """A small first batch (the first page, fast), then full ones."""
    if items:
        yield items[:first]
    for start in range(first, len(items), size):
        yield items[start:start + size]


class LeaseLost(Exception):
    """The account's sync lease could not be kept: the sync stops before another one may start."""


class _Lease(leases.KeptLease):
    """One sync per account: the account's `SYNC` lease, renewed beside the sync however long a
    folder takes; `check` stops the sync once it is lost."""

    def __init__(self, sessions: sessionmaker[Session], account_id: int, length: timedelta = LEASE):
        super().__init__(sessions, leases.SYNC, account_id, length)
        self.account_id = account_id

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(self.account_id)


@dataclass
class AccountSync:
    """Runs one sync of one account. Build one per job; it holds no connection between runs. `host`
    is an `Installation`, or anything else that provides its sessions and opens an account's IMAP."""

    host: SyncHost
    batch: int = 2000  # after the small first batch: few round trips, each commit a point to resume from
    first_batch: int = 50
    interval: timedelta = timedelta(minutes=5)
    on_batch: Callable[[Folder], None] | None = None
    lease: timedelta = LEASE
    index_bodies: int = 0  # bodies fetched for the search index per pass; 0: no search index
    _bodies_left: bool = field(default=False, repr=False)
    _caps: set[bytes] = field(default_factory=set, repr=False)
    _lease: _Lease | None = field(default=None, repr=False)

    def run(self, account_id: int, only: str | None = None) -> SyncSummary:
        """Sync every folder (or only the one named), INBOX first."""
        started = time.monotonic()
        summary = SyncSummary(account_id)
        lease = self._lease = _Lease(self.host.sessions, account_id, self.lease)
        if not lease.acquire():
            summary.state = SyncState.BUSY
            return summary
        try:
            with self.host.sessions() as db:
                account = db.get(Account, account_id)
                if account is None:
                    summary.state = SyncState.GONE
                    return summary
                try:
                    self._sync(db, account, summary, only)
                except LeaseLost:
                    db.rollback()  # what is committed stays; the next sync goes on from there
                    log.warning("account %s: sync stopped, its lease could not be kept", account_id)
                    summary.state = SyncState.BUSY
                    return summary
                except errors.MailError as exc:
                    db.rollback()
                    self._failed(db, account, exc, summary)
                else:
                    self._succeeded(db, account)
                summary.messages = db.scalar(select(func.coalesce(func.sum(Folder.total), 0))
                                             .where(Folder.account_id == account_id)) or 0
                summary.folders = db.scalar(select(func.count(Folder.id)).where(Folder.account_id == account_id)) or 0
                db.commit()
        finally:
            lease.release()
        summary.seconds = round(time.monotonic() - started, 3)
        return summary

    # --- account level -------------------------------------------------------------------------

    def _held(self) -> None:
        """Called before each commit of a long sync: stop if the lease is lost."""
        if self._lease is not None:
            self._lease.check()

    def _sync(self, db: Session, account: Account, summary: SyncSummary, only: str | None) -> None:
        with self.host.imap(db, account) as client:
            self._caps = set(client.capabilities())
            if b"QRESYNC" in self._caps:
                client.enable("QRESYNC")
            elif b"CONDSTORE" in self._caps:
                client.enable("CONDSTORE")
            synced = []
            listed = self._sync_folder_list(db, account, client)
            sentcopies.file_unfiled(db, account, client, listed)
            for folder in listed:
                if only and folder.name != only:
                    continue
                if folder.selectable and folder.subscribed:  # an unsubscribed folder waits for Subscribe
                    summary.fetched += self._sync_folder(db, client, folder)
                    self._thread(db, client, folder)
                    synced.append(folder)
                    self._held()
                    db.commit()  # an unchanged folder's check too: no write waits on the next one
            for folder in synced:  # every list is whole before any preview is fetched
                self._fill_previews(db, client, folder)
            self._held()
            autoarchive.run(db, account, client, synced)  # when the user turned it on
            if self.index_bodies > 0:  # the search index last: new mail and previews never wait for it
                indexing.index_listed(db, synced)
                if only is None:  # a sync for new mail (IDLE) leaves the bodies to the periodic one
                    self._bodies_left = indexing.fetch_bodies(db, client, synced, self.index_bodies,
                                                              held=self._held)

    def _succeeded(self, db: Session, account: Account) -> None:
        account.sync_state = SyncState.OK
        account.sync_failures = 0
        account.last_sync_at = account.last_login_at = utcnow()
        account.next_sync_at = utcnow() + (indexing.SOON if self._bodies_left else self.interval)
        account.last_error_kind = account.last_error_side = account.last_error_detail = None

    def _failed(self, db: Session, account: Account, exc: errors.MailError, summary: SyncSummary) -> None:
        account = db.get(Account, account.id)
        state = record_failure(account, exc)
        summary.state, summary.error = state, f"{type(exc).__name__}: {exc.detail}"[:300]

    def _sync_folder_list(self, db: Session, account: Account, client: MailClient) -> list[Folder]:
        listed = client.list_folders()
        try:
            subscribed = {name for _flags, _delim, name in client.list_sub_folders()}
        except IMAPClient.Error:
            subscribed = {name for _flags, _delim, name in listed}
        known = {f.name: f for f in db.scalars(select(Folder).where(Folder.account_id == account.id))}
        seen: set[str] = set()
        for flags, delimiter, name in listed:
            name = name if isinstance(name, str) else decode_header(name)
            delim = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
            folder = known.get(name) or Folder(account_id=account.id, name=name, total=0, unread=0, version=0,
                                               server_total=0, complete=False)
            folder.delimiter = delim
            folder.role = folder_role(name, flags, delim)
            folder.selectable = not any(f.lower() in (b"\\noselect", b"\\nonexistent") for f in flags)
            folder.subscribed = name in subscribed or folder.role == Role.INBOX
            if folder.id is None:
                db.add(folder)
            seen.add(name)
        for name, folder in known.items():
            if name not in seen:
                db.delete(folder)  # gone from the server: so are its messages here
        db.commit()
        folders = list(db.scalars(select(Folder).where(Folder.account_id == account.id)))
        return sorted(folders, key=lambda f: f.sort_key)

    # --- folder level ----------------------------------------------------------------------------

    def _sync_folder(self, db: Session, client: MailClient, folder: Folder) -> int:
        info = client.select_folder(folder.name, readonly=True)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        uidnext = int(info.get(b"UIDNEXT", 0))
        exists = int(info.get(b"EXISTS", 0))
        modseq = int(info[b"HIGHESTMODSEQ"]) if info.get(b"HIGHESTMODSEQ") else None
        if folder.uidvalidity is not None and folder.uidvalidity != uidvalidity:
            self._reset(db, folder)  # the server renumbered the folder: start it over
        if (folder.complete and modseq is not None and folder.highestmodseq == modseq
                and folder.uidnext == uidnext and folder.total == exists):
            folder.last_synced_at = utcnow()
            return 0  # nothing changed: one SELECT was the whole cost
        folder.server_total = exists
        if folder.complete and folder.highestmodseq and modseq is not None:
            fetched = self._changes_since(db, client, folder, uidnext)
        else:
            fetched = self._everything(db, client, folder)
        folder.uidvalidity, folder.uidnext, folder.highestmodseq = uidvalidity, uidnext, modseq
        folder.complete = True
        self._recount(db, folder)
        folder.version += 1
        folder.last_synced_at = utcnow()
        self._held()
        db.commit()
        return fetched

    def _reset(self, db: Session, folder: Folder) -> None:
        db.execute(delete(Message).where(Message.folder_id == folder.id))
        folder.complete, folder.highestmodseq, folder.uidnext = False, None, None
        folder.total = folder.unread = 0
        folder.version += 1
        db.commit()

    def _everything(self, db: Session, client: MailClient, folder: Folder) -> int:
        """A first sync, or a full comparison where the server cannot say what changed."""
        on_server = set(client.search(["ALL"]))
        stored = dict(db.execute(select(Message.uid, Message.seen).where(Message.folder_id == folder.id)).all())
        self._delete(db, folder, set(stored) - on_server)
        if folder.complete:  # no CONDSTORE to ask: read every flag again
            self._refresh_flags(db, client, folder, sorted(on_server & set(stored)))
        missing = sorted(on_server - set(stored), reverse=True)
        return self._fetch_new(db, client, folder, missing)

    def _changes_since(self, db: Session, client: MailClient, folder: Folder, uidnext: int) -> int:
        """CONDSTORE: new messages, flags changed since the last HIGHESTMODSEQ and, with QRESYNC,
        expunges, each in one command; without QRESYNC a UID comparison finds expunges."""
        known_next = folder.uidnext or 1
        new = sorted((u for u in client.search(["UID", f"{known_next}:*"]) if u >= known_next), reverse=True)
        fetched = self._fetch_new(db, client, folder, new)
        qresync = b"QRESYNC" in self._caps
        modifiers = [f"CHANGEDSINCE {folder.highestmodseq}"] + (["VANISHED"] if qresync else [])
        changed = client.fetch_set(f"1:{max(known_next - 1, 1)}", ["FLAGS"], modifiers)
        self._apply_flags(db, folder, changed)
        if qresync:
            stored = db.scalars(select(Message.uid).where(Message.folder_id == folder.id))
            vanished = vanished_uids(client.take_vanished(), stored)
        else:
            stored_count = db.scalar(select(func.count()).where(Message.folder_id == folder.id))
            vanished = set()
            if stored_count != folder.server_total:
                stored = set(db.scalars(select(Message.uid).where(Message.folder_id == folder.id)))
                vanished = stored - set(client.search(["ALL"]))
        self._delete(db, folder, vanished)
        return fetched

    def _fetch_new(self, db: Session, client: MailClient, folder: Folder, uids: list[int]) -> int:
        """Rows for these messages, newest first, a batch committed at a time; the small first
        batch carries its previews too, so the first page is whole at once."""
        fetched = 0
        server_previews = b"PREVIEW" in self._caps
        for number, batch in enumerate(_batches(uids, self.first_batch, self.batch)):
            items = summaries.list_items(with_preview=server_previews and number == 0)
            rows = summaries.rows_of(folder.id, self._fetch_robustly(client, batch, items), set(batch))
            summaries.add_arrival_dates(client, rows)
            conversations.thread_rows(db, folder, rows)  # the batch joins its conversations
            summaries.insert_new(db, rows)
            folder.total += len(rows)
            folder.unread += sum(1 for r in rows if not r["seen"])
            folder.version += 1
            self._held()
            db.commit()  # progress survives an interruption
            fetched += len(rows)
            if self.on_batch:
                self.on_batch(folder)
        return fetched

    def _thread(self, db: Session, client: MailClient, folder: Folder) -> None:
        """Messages still without a conversation (stored before threading, or listed by the app
        itself) get one; those stored before also get their keys, three header lines each."""
        def fetch_keys(uids: list[int]) -> dict[int, tuple[str, str]]:
            fetched = self._fetch_robustly(client, uids, [conversations.THREAD_HEADERS_ITEM], last_resort=None)
            return {uid: conversations.keys_of_fetch(data) for uid, data in fetched}

        if conversations.thread_folder(db, folder, fetch_keys, self.batch):
            folder.version += 1
            self._held()
            db.commit()

    def _fill_previews(self, db: Session, client: MailClient, folder: Folder) -> bool:
        """The previews the list still lacks, newest first, once every folder's list is whole;
        whether there were any."""
        pending = summaries.pending_previews(db, folder)
        if not pending:
            return False
        info = client.select_folder(folder.name, readonly=True)
        if int(info.get(b"UIDVALIDITY", 0)) != folder.uidvalidity:
            return False  # renumbered since the list was made: the next sync starts the folder over
        items = summaries.preview_items(b"PREVIEW" in self._caps)
        for batch in _batches(pending, self.first_batch, self.batch):
            found = summaries.previews_of(self._fetch_robustly(client, batch, items, last_resort=None))
            # a message the server cannot preview gets an empty one, so no sync asks again
            summaries.store_previews(db, folder.id, {uid: found.get(uid, "") for uid in batch})
            folder.version += 1
            self._held()
            db.commit()
            if self.on_batch:
                self.on_batch(folder)
        return True

    def _fetch_robustly(self, client: MailClient, uids: list[int], items: list[str],
                        last_resort: list[str] | None = summaries.DESCRIBED_ANYWAY) -> list[tuple[int, dict]]:
        """One malformed message never stops a sync: a batch that fails is fetched one by one, and a
        message the server cannot describe is still listed, with what is known of it."""
        try:
            return list(client.fetch_set(uid_set(uids), items).items())
        except IMAPClient.AbortError:
            raise
        except (IMAPClient.Error, ValueError) as exc:
            log.info("batch fetch failed (%s); fetching one by one", type(exc).__name__)
        result = []
        for uid in uids:
            try:
                result.extend(client.fetch([uid], items).items())
            except IMAPClient.AbortError:
                raise
            except (IMAPClient.Error, ValueError):
                if last_resort:
                    result.extend(client.fetch([uid], last_resort).items())
        return result

    def _refresh_flags(self, db: Session, client: MailClient, folder: Folder, uids: list[int]) -> None:
        for start in range(0, len(uids), 5000):
            self._apply_flags(db, folder, client.fetch_set(uid_set(uids[start:start + 5000]), ["FLAGS"]))

    def _apply_flags(self, db: Session, folder: Folder, fetched: dict) -> None:
        for uid, data in fetched.items():
            if b"FLAGS" not in data:
                continue
            flags = {f.lower() for f in data[b"FLAGS"]}
            db.execute(update(Message).where(Message.folder_id == folder.id, Message.uid == uid).values(
                seen=b"\\seen" in flags, flagged=b"\\flagged" in flags, answered=b"\\answered" in flags,
                modseq=data.get(b"MODSEQ", (None,))[0]))

    def _delete(self, db: Session, folder: Folder, uids: set[int]) -> None:
        ordered = sorted(uids)
        for start in range(0, len(ordered), 500):
            db.execute(delete(Message).where(Message.folder_id == folder.id,
                                             Message.uid.in_(ordered[start:start + 500])))

    def _recount(self, db: Session, folder: Folder) -> None:
        total, unread = db.execute(select(func.count(), func.coalesce(func.sum(case((Message.seen.is_(False), 1),
                                                                                      else_=0)), 0))
                                   .where(Message.folder_id == folder.id)).one()
        folder.total, folder.unread = int(total), int(unread)


def claim_due(sessions: sessionmaker[Session], limit: int = 500) -> list[int]:
    """Accounts whose periodic sync is due (or that never synced), never one waiting for Sign in
    again, each claimed for `CLAIM` in one statement (the `DUE` lease): of two schedulers running
    this at once, the database gives each account to one, and neither sends it again while it runs
    (the sync sets the real next time). Oldest due first."""
    with sessions() as db:
        claimed = leases.RowLease(leases.DUE, CLAIM).claim(db, limit, Account.sync_state != SyncState.SIGN_IN,
                                                           order_by=[Account.next_sync_at])
        db.commit()
    return claimed
