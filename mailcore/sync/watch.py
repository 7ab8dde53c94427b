"""IDLE at scale: one watcher holds many accounts' INBOX connections, and asks for a sync when one
changes. It is the only watcher: `flask sync watch` runs it as a process of its own (many accounts,
queue mode), and the embedded runner (`jobs.ThreadRunner`) runs it in a thread of the web process.

A small pool of threads opens connections (TLS, LOGIN, SELECT, IDLE) and one loop waits on all
their sockets at once with `selectors`, reading what a server says only when its socket has
something. IDLE is renewed before a server may end it; a server without IDLE is polled with NOOP.
A change asks for an INBOX sync (`on_change`: by default `SyncHost.request_sync`, which in queue
mode the queue carries to a sync worker; the embedded runner hands it to its own workers).

Accounts are spread over the watchers by the `WATCH` lease in the database (mailcore/leases.py): a
watcher claims accounts nobody holds, up to its capacity, and renews its leases every third of the
lease. A process killed with -9 renews nothing, so its accounts are free when the lease runs out
(45 s) and another watcher claims them at its next renewal. Never two at once: a watcher that could
not renew in time stops watching before its lease can have run out.
"""

from __future__ import annotations

import logging
import queue
import selectors
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from mailcore import errors, leases
from mailcore.connect import MailClient, mailbox_changed
from mailcore.models import Account, SyncState, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from mailcore.sync.host import SyncHost

log = logging.getLogger(__name__)
IDLE_RENEW = 24 * 60  # seconds; servers may end IDLE after 29 minutes (RFC 2177)
NOOP_POLL = 30  # seconds between two NOOPs where a server has no IDLE
LEASE = 45.0  # seconds; a dead watcher's accounts are watched again within LEASE + LEASE / 3
CLAIM_BATCH = 250  # accounts claimed per renewal, so that watchers starting together share them
EMPTY_READS = 3  # a socket readable again and again with nothing to read has been closed
LOST = (errors.MailError, IMAPClient.Error, OSError, EOFError, ValueError)
TURN_LINES = 200  # lines read from one account per turn of the loop; the rest wait for the next turn
TURN_BYTES = 256 * 1024  # about as many bytes per turn
IDLE_MOST_LINES = 20_000  # in one IDLE (24 minutes) a real server says far less, even when thousands change
IDLE_MOST_BYTES = 8 * 1024 * 1024
PAUSE = timedelta(minutes=30)  # an account whose server said more is not watched for this long


@dataclass(eq=False)
class Watched:
    """One account's open INBOX connection, in IDLE (or polled with NOOP where IDLE is missing)."""

    account_id: int
    client: MailClient
    stack: ExitStack  # closing it logs out
    idle: bool
    since: float = field(default_factory=time.monotonic)  # when IDLE (or the last NOOP) began
    empty_reads: int = 0
    lines: int = 0  # read in this IDLE
    size: int = 0


class Watcher:
    """Watches the INBOX of up to `capacity` accounts whose sync is OK; `run` until `stop` is set.

    `on_change(account_id)` is called when a server reports a change (or a NOOP shows one);
    `on_adopt(account_id)` when an account's connection is (re)opened, so that what came while
    nobody watched is synced once: by default it is made due for the periodic round, so that
    thousands of accounts taken over at once never delay the mail that people wait for."""

    def __init__(self, host: SyncHost, capacity: int = 1000, connectors: int = 8,
                 lease: float = LEASE, on_change: Callable[[int], None] | None = None,
                 on_adopt: Callable[[int], None] | None = None, renew_every: float | None = None):
        self.host, self.capacity, self.lease = host, capacity, lease
        self.renew_every = min(renew_every or lease / 3, lease / 3)  # also how soon a new account is watched
        self._lease = leases.RowLease(leases.WATCH, timedelta(seconds=lease))
        self.owner = self._lease.owner
        self.on_change = on_change or (lambda account_id: host.request_sync(account_id, "INBOX"))
        self.on_adopt = on_adopt or (lambda account_id: leases.make_due(host.sessions, account_id))
        self.leased: set[int] = set()
        self.watched: dict[int, Watched] = {}
        self.busy: set[int] = set()  # in the pool: connecting, renewing IDLE, polling, closing
        self.retry_at: dict[int, float] = {}
        self.failures: dict[int, int] = {}
        self.renewed_at = float("-inf")
        self._selector = selectors.DefaultSelector()
        self._pool = ThreadPoolExecutor(connectors, thread_name_prefix="watch-connect")
        self._done: queue.SimpleQueue[tuple[int, Watched | None, str | None]] = queue.SimpleQueue()
        self._changes = _Changes(self.on_change, self.on_adopt)
        self.unfinished: set[int] = set()  # accounts whose last turn stopped at its bound: read again at once

    # --- the loop --------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        next_lease = 0.0
        self._changes.start()
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_lease:
                    self._renew_leases()
                    next_lease = now + self.renew_every
                if now - self.renewed_at > self.lease - min(10.0, self.lease / 3):
                    self._drop_all()  # our leases may be running out: let another process take over
                self._start_connections()
                self._adopt_finished()
                self._keep_alive()
                again = [self.watched[a] for a in self.unfinished if a in self.watched]
                self.unfinished.clear()
                ready = {key.data for key, _events in self._selector.select(timeout=0 if again else 0.5)}
                for watched in ready | set(again):
                    self._readable(watched)
        finally:
            self.close()

    def close(self) -> None:
        """Log out of everything and give the leases back, so another process need not wait."""
        self._drop_all()
        self._pool.shutdown(wait=True)
        while not self._done.empty():
            _account_id, watched, _event = self._done.get()
            if watched is not None:
                _logout(watched)
        self._changes.stop()
        try:
            with self.host.sessions() as db:
                self._lease.release(db)
                db.commit()
        except SQLAlchemyError:
            log.warning("could not give the watch leases back; they run out in %s s", self.lease)

    # --- leases ----------------------------------------------------------------------------------

    def _renew_leases(self) -> None:
        started = time.monotonic()
        try:
            held = self._renew_and_claim()
        except SQLAlchemyError as exc:
            log.warning("cannot renew the watch leases (%s); keep watching while they last", type(exc).__name__)
            return
        self.renewed_at = started
        for account_id in self.leased - held:
            self._drop(account_id)
        if held - self.leased:
            log.info("watching %d more accounts (%d in all)", len(held - self.leased), len(held))
        self.leased = held

    def _renew_and_claim(self) -> set[int]:
        now = utcnow()
        ok = (Account.sync_state == SyncState.OK) & (
            Account.watch_paused_until.is_(None) | (Account.watch_paused_until <= now))
        with self.host.sessions() as db:
            self._lease.release(db, ~ok)  # an account that needs its user first is not watched
            held = self._lease.renew(db, ok)
            room = min(self.capacity - len(held), CLAIM_BATCH)
            if room > 0:
                held |= set(self._lease.claim(db, room, ok))
            db.commit()
        return held

    # --- connections -----------------------------------------------------------------------------

    def _start_connections(self) -> None:
        now = time.monotonic()
        for account_id in self.leased:
            if (account_id not in self.watched and account_id not in self.busy
                    and self.retry_at.get(account_id, 0) <= now):
                self.busy.add(account_id)
                self._pool.submit(self._connect, account_id)

    def _connect(self, account_id: int) -> None:
        stack = ExitStack()
        try:
            with self.host.sessions() as db:
                row = db.get(Account, account_id)
                if row is None:
                    raise errors.ProtocolFailure("the account was removed")
                client = stack.enter_context(self.host.imap(db, row))
            client.select_folder("INBOX", readonly=True)
            watched = Watched(account_id, client, stack, idle=b"IDLE" in client.capabilities())
            if watched.idle:
                _start_idle(client)
        except LOST as exc:
            stack.close()
            log.info("cannot watch account %s: %s", account_id, type(exc).__name__)
            self._done.put((account_id, None, None))
            return
        except BaseException:
            stack.close()
            self._done.put((account_id, None, None))
            raise
        self._done.put((account_id, watched, "adopted"))  # what came while nobody watched: synced once

    def _adopt_finished(self) -> None:
        while not self._done.empty():
            account_id, watched, event = self._done.get()
            self.busy.discard(account_id)
            if watched is None:
                self._failed(account_id)
                continue
            if account_id not in self.leased:  # the lease went while it connected
                self._close_later(watched)
                continue
            self.failures.pop(account_id, None)
            self.watched[account_id] = watched
            if watched.idle:
                self._selector.register(watched.client.socket(), selectors.EVENT_READ, watched)
            if event is not None:  # new mail seen now is waited for; a newly watched account's sync is not
                self._changes.add(account_id, urgent=event == "changed")

    def _failed(self, account_id: int) -> None:
        failures = self.failures.get(account_id, 0) + 1
        self.failures[account_id] = failures
        self.retry_at[account_id] = time.monotonic() + min(300, 2 ** failures)  # never hammer a provider

    def _readable(self, watched: Watched) -> None:
        """One turn of reading an account: at most TURN_LINES lines, so every account gets its turn."""
        try:
            responses, size = watched.client.idle_turn(TURN_LINES, TURN_BYTES)
        except LOST:
            responses, size = None, 0
        if responses:
            watched.lines += len(responses)
            watched.size += size
            if watched.lines > IDLE_MOST_LINES or watched.size > IDLE_MOST_BYTES:
                self._pause(watched)
                return
            if len(responses) >= TURN_LINES or size >= TURN_BYTES:
                self.unfinished.add(watched.account_id)
            watched.empty_reads = 0
            if mailbox_changed(responses):
                self._changes.add(watched.account_id)
            if any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses):
                self._lost(watched)
            return
        watched.empty_reads += 1
        if responses is None or watched.empty_reads >= EMPTY_READS:
            self._lost(watched)

    def _keep_alive(self) -> None:
        """Renew IDLE before a server ends it (RFC 2177: 29 minutes); poll where IDLE is missing."""
        now = time.monotonic()
        for watched in list(self.watched.values()):
            if now - watched.since >= (IDLE_RENEW if watched.idle else NOOP_POLL):
                self._detach(watched)
                self.busy.add(watched.account_id)
                self._pool.submit(self._refresh, watched)

    def _refresh(self, watched: Watched) -> None:
        try:
            if watched.idle:
                _text, responses = watched.client.idle_done()
                _start_idle(watched.client)
                watched.lines = watched.size = 0
            else:
                _text, responses = watched.client.noop()
        except LOST:
            _logout(watched)
            self._done.put((watched.account_id, None, None))
            return
        watched.since = time.monotonic()
        self._done.put((watched.account_id, watched, "changed" if mailbox_changed(responses) else None))

    # --- letting go ------------------------------------------------------------------------------

    def _detach(self, watched: Watched) -> None:
        self.watched.pop(watched.account_id, None)
        if watched.idle:
            try:
                self._selector.unregister(watched.client.socket())
            except (KeyError, ValueError, OSError):
                pass

    def _pause(self, watched: Watched) -> None:
        """The server says more in IDLE than any real one: stop watching the account for PAUSE, here and in
        every watcher (its lease is not claimed until then), and say so on its sync status."""
        log.warning("account %s: its server sent more than %d lines or %d bytes in one IDLE; not watched for %s",
                    watched.account_id, IDLE_MOST_LINES, IDLE_MOST_BYTES, PAUSE)
        self._detach(watched)
        self._close_later(watched)
        self.retry_at[watched.account_id] = time.monotonic() + PAUSE.total_seconds()
        try:
            with self.host.sessions() as db:
                db.execute(update(Account).where(Account.id == watched.account_id).values(
                    watch_paused_until=utcnow() + PAUSE))
                db.commit()
        except SQLAlchemyError as exc:
            log.warning("could not record the pause of account %s (%s)", watched.account_id, type(exc).__name__)

    def _lost(self, watched: Watched) -> None:
        log.info("IDLE on account %s ended", watched.account_id)
        self._detach(watched)
        self._close_later(watched)
        self._failed(watched.account_id)
        self._changes.add(watched.account_id)  # a sync now finds out at once whether the server is away

    def _drop(self, account_id: int) -> None:
        watched = self.watched.get(account_id)
        if watched is not None:
            self._detach(watched)
            self._close_later(watched)
        self.retry_at.pop(account_id, None)
        self.failures.pop(account_id, None)

    def _drop_all(self) -> None:
        for account_id in list(self.watched):
            self._drop(account_id)
        self.leased = set()

    def _close_later(self, watched: Watched) -> None:
        try:
            self._pool.submit(_logout, watched)
        except RuntimeError:  # shutting down: log out here
            _logout(watched)


def _start_idle(client: MailClient) -> None:
    client.idle()
    client.allow(IDLE_RENEW + 60)  # a quiet mailbox says nothing for minutes: that is no failure


def _logout(watched: Watched) -> None:
    try:
        if watched.idle:
            watched.client.idle_done()
    except LOST:
        pass
    try:
        watched.stack.close()
    except LOST:
        pass


class _Changes:
    """Asks for syncs from a thread of its own, one request per account at a time, so that a slow
    broker never holds up the loop that reads thousands of sockets."""

    def __init__(self, on_change: Callable[[int], None], on_adopt: Callable[[int], None]):
        self.on_change, self.on_adopt = on_change, on_adopt
        self._waiting: dict[int, bool] = {}  # account -> urgent (a change seen) or not (newly watched)
        self._lock = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, daemon=True, name="watch-changes")

    def start(self) -> None:
        self._thread.start()

    def add(self, account_id: int, urgent: bool = True) -> None:
        with self._lock:
            self._waiting[account_id] = urgent or self._waiting.get(account_id, False)
            self._lock.notify()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._stopped:
                    self._lock.wait()
                if self._stopped and not self._waiting:
                    return
                account_id = next(iter(self._waiting))
                urgent = self._waiting.pop(account_id)
            try:
                (self.on_change if urgent else self.on_adopt)(account_id)
            except Exception:
                log.exception("could not ask for a sync of account %s", account_id)
