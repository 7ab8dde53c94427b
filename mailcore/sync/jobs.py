"""Running syncs: a job is plain data (which account, which folder), so any queue can carry it.

`InlineRunner` runs a job where it is asked for (tests, `SYNC_MODE=inline`). `ThreadRunner` is the
embedded default (and `flask sync worker` with `SYNC_MODE=external`): worker threads, a scheduler
that claims the accounts whose next sync is due (`claim_due`: the database is the queue, so a
separate worker process sees the same requests) and the IDLE `Watcher` of `flask sync watch`, run in
a thread, which syncs INBOX as soon as a server says it changed. The queue of `SYNC_MODE=queue`
carries the same `SyncJob` to workers that call `run_job`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from mailcore import notify
from mailcore.models import SyncState
from mailcore.sync.engine import AccountSync, SyncSummary, claim_due
from mailcore.sync.host import SyncHost
from mailcore.sync.watch import LEASE as WATCH_LEASE
from mailcore.sync.watch import Watcher

log = logging.getLogger(__name__)
WATCH_CLAIM = 3.0  # seconds between two renewals (and claims) of the embedded watcher's leases


@dataclass(frozen=True)
class SyncJob:
    account_id: int
    folder: str | None = None  # None: every folder


def run_job(host: SyncHost, job: SyncJob) -> SyncSummary:
    """One sync; the INBOX messages it stored are then pushed to the user's subscribed browsers."""
    pusher = getattr(host, "push", None)
    since = None
    if pusher is not None and job.folder in (None, "INBOX"):
        with host.sessions() as db:
            since = notify.inbox_watermark(db, job.account_id, pusher)
    settings = getattr(host, "settings", None)  # an Installation's; another host runs without a search index
    summary = AccountSync(host, index_bodies=getattr(settings, "search_index_per_sync", 0)).run(job.account_id,
                                                                                               only=job.folder)
    if since is not None:
        try:
            with host.sessions() as db:
                notify.push_new(db, job.account_id, since, pusher)
        except Exception:
            log.exception("pushing the new mail of account %s failed", job.account_id)
    return summary


class Runner(Protocol):
    def submit(self, job: SyncJob) -> None: ...

    def stop(self) -> None: ...


class InlineRunner:
    def __init__(self, host: SyncHost):
        self.host = host

    def submit(self, job: SyncJob) -> None:
        run_job(self.host, job)

    def stop(self) -> None:
        pass


class ThreadRunner:
    """Worker threads, a scheduler and the IDLE watcher, all daemons of this process."""

    def __init__(self, host: SyncHost, workers: int = 2, tick: float = 1.0, watch: bool = True,
                 watch_lease: float = WATCH_LEASE):
        self.host, self.tick = host, tick
        self.jobs: queue.Queue[SyncJob] = queue.Queue()
        self._pending: set[SyncJob] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"sync-worker-{n}")
                         for n in range(workers)]
        self._threads.append(threading.Thread(target=self._schedule, daemon=True, name="sync-scheduler"))
        # a change seen in IDLE is handed to these workers directly; an account newly watched is made
        # due, so the scheduler syncs it once; one connected a moment ago is watched within seconds
        self.watcher = Watcher(host, lease=watch_lease, renew_every=WATCH_CLAIM, on_change=lambda account_id:
                               self.submit(SyncJob(account_id, "INBOX"))) if watch else None
        if self.watcher is not None:
            self._threads.append(threading.Thread(target=self.watcher.run, args=(self._stop,), daemon=True,
                                                  name="sync-watch"))

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
        """Stop every thread; the watcher logs out and gives its leases back before this returns."""
        self._stop.set()
        for thread in self._threads:
            if thread.name == "sync-watch" and thread.is_alive():
                thread.join(timeout=30)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            with self._lock:
                self._pending.discard(job)
            try:
                summary = run_job(self.host, job)
                if summary.state == SyncState.BUSY:  # another worker holds the account: try again shortly
                    time.sleep(0.2)
                    self.submit(job)
            except Exception:
                log.exception("sync job %s failed", job)

    def _schedule(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                for account_id in claim_due(self.host.sessions):
                    self.submit(SyncJob(account_id))
            except Exception:
                log.exception("sync scheduler tick failed")
