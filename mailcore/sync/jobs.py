"""Running syncs: a job is plain data (which account, which folder), so any queue can carry it.

`InlineRunner` runs a job where it is asked for (tests, `SYNC_MODE=inline`). `ThreadRunner` is the
embedded default: worker threads started with the app, a scheduler that picks up accounts whose
next sync is due (the database is the queue, so a separate `flask sync worker` process sees the
same requests), and an IDLE watcher per account that syncs INBOX as soon as the server says it
changed. A distributed queue would carry the same `SyncJob` to workers that call `run_job`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from imapclient import IMAPClient
from sqlalchemy import select, update

from mailcore import errors
from mailcore.connect import MailClient, mailbox_changed
from mailcore.models import Account, SyncState, utcnow
from mailcore.sync.engine import AccountSync, SyncSummary, due_accounts

if TYPE_CHECKING:
    from mailcore.installation import Installation

log = logging.getLogger(__name__)
IDLE_RENEW = 24 * 60  # seconds; servers may end IDLE after 29 minutes (RFC 2177)
NOOP_POLL = 30


@dataclass(frozen=True)
class SyncJob:
    account_id: int
    folder: str | None = None  # None: every folder


def run_job(installation: Installation, job: SyncJob) -> SyncSummary:
    return AccountSync(installation).run(job.account_id, only=job.folder)


class Runner(Protocol):
    def submit(self, job: SyncJob) -> None: ...

    def stop(self) -> None: ...


class InlineRunner:
    def __init__(self, installation: Installation):
        self.installation = installation

    def submit(self, job: SyncJob) -> None:
        run_job(self.installation, job)

    def stop(self) -> None:
        pass


class ThreadRunner:
    """Worker threads, a scheduler and IDLE watchers, all daemons of this process."""

    def __init__(self, installation: Installation, workers: int = 2, tick: float = 1.0, watch: bool = True):
        self.installation, self.tick, self.watch = installation, tick, watch
        self.jobs: queue.Queue[SyncJob] = queue.Queue()
        self._pending: set[SyncJob] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchers: dict[int, InboxWatcher] = {}
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"sync-worker-{n}")
                         for n in range(workers)]
        self._threads.append(threading.Thread(target=self._schedule, daemon=True, name="sync-scheduler"))

    def start(self) -> ThreadRunner:
        for thread in self._threads:
            thread.start()
        return self

    def submit(self, job: SyncJob) -> None:
        with self._lock:
            if job in self._pending:
                return  # already waiting: one is enough
            self._pending.add(job)
        self.jobs.put(job)

    def stop(self) -> None:
        self._stop.set()
        for watcher in list(self._watchers.values()):
            watcher.stop()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            with self._lock:
                self._pending.discard(job)
            try:
                summary = run_job(self.installation, job)
                if summary.state == SyncState.BUSY:  # another worker holds the account: try again shortly
                    time.sleep(0.2)
                    self.submit(job)
            except Exception:
                log.exception("sync job %s failed", job)

    def _schedule(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                due = due_accounts(self.installation.sessions)
                for account_id in due:
                    self._postpone(account_id)
                    self.submit(SyncJob(account_id))
                if self.watch:
                    self._keep_watchers()
            except Exception:
                log.exception("sync scheduler tick failed")

    def _postpone(self, account_id: int) -> None:
        """So the next tick does not queue it again while it runs; the sync sets the real time."""
        with self.installation.sessions() as db:
            db.execute(update(Account).where(Account.id == account_id).values(
                next_sync_at=utcnow() + timedelta(minutes=1)))
            db.commit()

    def _keep_watchers(self) -> None:
        with self.installation.sessions() as db:
            accounts = set(db.scalars(select(Account.id).where(Account.sync_state == SyncState.OK)))
        for account_id in accounts - set(self._watchers):
            self._watchers[account_id] = InboxWatcher(self.installation, account_id, self).start()
        for account_id in set(self._watchers) - accounts:
            self._watchers.pop(account_id).stop()


class InboxWatcher:
    """Holds an IMAP connection on INBOX and asks for a sync when the server reports a change."""

    def __init__(self, installation: Installation, account_id: int, runner: Runner):
        self.installation, self.account_id, self.runner = installation, account_id, runner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"idle-{account_id}")

    def start(self) -> InboxWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._watch()
                failures = 0
            except (errors.MailError, IMAPClient.Error, OSError, EOFError) as exc:
                failures += 1
                log.info("IDLE on account %s ended: %s", self.account_id, type(exc).__name__)
                self._stop.wait(min(300, 2 ** failures))  # back off; never hammer the provider

    def _watch(self) -> None:
        with self.installation.sessions() as db:
            account = db.get(Account, self.account_id)
            if account is None:
                self._stop.set()
                return
            mail = self.installation.account(db, account)
        with mail.imap() as client:
            client.select_folder("INBOX", readonly=True)
            can_idle = b"IDLE" in client.capabilities()
            client.socket().settimeout(None)
            while not self._stop.is_set():
                changed = self._idle(client) if can_idle else self._poll(client)
                if changed:
                    self.runner.submit(SyncJob(self.account_id, "INBOX"))

    def _idle(self, client: MailClient) -> bool:
        client.idle()
        client.allow(IDLE_RENEW + 60)  # a quiet mailbox says nothing for minutes: that is no failure
        started = time.monotonic()
        try:
            while not self._stop.is_set() and time.monotonic() - started < IDLE_RENEW:
                if mailbox_changed(client.idle_check(timeout=5)):
                    return True
            return False
        finally:
            client.idle_done()

    def _poll(self, client: MailClient) -> bool:
        self._stop.wait(NOOP_POLL)
        _text, responses = client.noop()
        return mailbox_changed(responses)
