"""Sync jobs on a task queue (`SYNC_MODE=queue`): Dramatiq with the Redis broker at `QUEUE_URL`.

Why Dramatiq on Redis: a job here is two small values and runs for seconds to minutes; Dramatiq
acknowledges a message only when its actor returns and hands a dead worker's messages to another
(its heartbeats), runs many worker threads per process, and needs no result store or beat process.
Redis is one small service an operator likely runs already (Celery would bring more machinery than
a job this size needs; procrastinate would load the database that also serves every web request).

Only `SyncJob` travels: the account's id and the folder (or none: every folder). The database stays
the truth: a request is also "due" there when the broker cannot be reached, and `Scheduler`, which
runs in every `flask sync worker` process, sends every account whose periodic sync is due through
the queue, claiming it in the database first (`engine.claim_due`, the same claim as the embedded
scheduler's) so that two schedulers never send it twice. A message
lost with the broker (this Redis keeps nothing on disk) is therefore sent again within a minute.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import update

from mailcore import leases
from mailcore.models import Account, SyncState, utcnow
from mailcore.sync.engine import claim_due
from mailcore.sync.jobs import SyncJob, run_job

if TYPE_CHECKING:
    from mailcore.sync.host import SyncHost

log = logging.getLogger(__name__)
NAMESPACE = "inkorg"  # every Redis key of the queue starts with it
QUEUE_NAME = "sync"  # what a person waits for: Refresh, a new account, an action, new mail seen by IDLE
BACKGROUND_QUEUE = "sync-background"  # periodic syncs: taken only when no one waits
PENDING_TTL = 15 * 60  # seconds a "this job is waiting" mark lives, should its message be lost
BUSY_DELAY = 2000  # ms before a job whose account is syncing elsewhere is tried again
TIME_LIMIT = 30 * 60 * 1000  # ms: the longest first sync; one cut off resumes where it stopped


class SyncQueue:
    """The queue's two ends: `submit` sends a job (the web app, schedulers, watchers); `worker`
    runs them (`flask sync worker`)."""

    def __init__(self, host: SyncHost, url: str):
        self.host = host
        # a worker killed with -9 stops its heartbeat; after 30 s another worker requeues its
        # messages during the broker's maintenance, which runs on about one command in twenty
        # (the chance is counted per million)
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=10)
        self.broker = RedisBroker(client=client, namespace=NAMESPACE, heartbeat_timeout=30_000,
                                  maintenance_chance=50_000)
        options = {"broker": self.broker, "max_retries": 3, "time_limit": TIME_LIMIT}
        # a worker thread takes the lowest priority number first: new mail before the periodic round
        self.actors = {False: dramatiq.actor(self._run_now, actor_name="sync_account", queue_name=QUEUE_NAME,
                                             priority=0, **options),
                       True: dramatiq.actor(self._run_background, actor_name="sync_account_background",
                                            queue_name=BACKGROUND_QUEUE, priority=100, **options)}

    @property
    def redis(self) -> redis.Redis:
        return self.broker.client

    def submit(self, job: SyncJob, delay: int | None = None, background: bool = False) -> bool:
        """Send the job unless the same one is already waiting; False when the broker cannot be
        reached (the caller keeps the request in the database then)."""
        try:
            if self.redis.set(_pending_key(job, background), 1, nx=True, ex=PENDING_TTL):
                self.actors[background].send_with_options(args=(job.account_id, job.folder), delay=delay)
            return True
        except (redis.RedisError, OSError, dramatiq.errors.BrokerError) as exc:
            log.warning("the sync queue cannot be reached (%s); the request waits in the database",
                        type(exc).__name__)
            return False

    def stop(self) -> None:
        self.broker.close()

    def _run_now(self, account_id: int, folder: str | None) -> None:
        self._run(SyncJob(account_id, folder), background=False)

    def _run_background(self, account_id: int, folder: str | None) -> None:
        self._run(SyncJob(account_id, folder), background=True)

    def _run(self, job: SyncJob, background: bool) -> None:
        try:
            self.redis.delete(_pending_key(job, background))  # from now on a new request queues a new run
        except redis.RedisError:
            pass
        summary = run_job(self.host, job)
        if summary.state == SyncState.BUSY:  # another worker syncs this account now: after it, once more
            self.submit(job, delay=BUSY_DELAY, background=background)

    def worker(self, threads: int) -> dramatiq.Worker:
        return dramatiq.Worker(self.broker, queues={QUEUE_NAME, BACKGROUND_QUEUE}, worker_threads=threads,
                               worker_timeout=1000)


def _pending_key(job: SyncJob, background: bool) -> str:
    return f"{NAMESPACE}:pending:{'later' if background else 'now'}:{job.account_id}:{job.folder or '*'}"


class Scheduler:
    """Sends every due account through the queue, once a `tick`; a thread of `flask sync worker`."""

    def __init__(self, host: SyncHost, queue: SyncQueue, tick: float = 1.0):
        self.host, self.queue, self.tick = host, queue, tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="sync-scheduler")

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        run_id = None
        while not self._stop.wait(self.tick):
            try:
                run_id, before = self.queue.redis.info("server").get("run_id"), run_id
            except (redis.RedisError, OSError):
                continue  # the broker is away: requests wait in the database meanwhile
            try:
                if before is not None and run_id != before:
                    self._all_due()
                for account_id in claim_due(self.host.sessions):
                    if not self.queue.submit(SyncJob(account_id), background=True):
                        leases.make_due(self.host.sessions, account_id)  # given back
                        break  # the broker is away: everything stays due until it is back
            except Exception:  # the database restarting, say: the next tick tries again
                log.exception("sync scheduler tick failed")

    def _all_due(self) -> None:
        """The broker restarted and may have lost waiting jobs (Redis here keeps nothing on disk):
        every account is synced once, which costs a SELECT per folder where nothing changed."""
        log.warning("the sync queue restarted; every account is synced once")
        with self.host.sessions() as db:
            db.execute(update(Account).where(Account.sync_state.in_([SyncState.OK, SyncState.NEW]))
                       .values(next_sync_at=utcnow()))
            db.commit()
