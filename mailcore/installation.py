"""What one installation's mail code shares: the database, the network rule and TLS settings, the
secret box, the provider lists and discovery, and where syncs run. The web app keeps one as its
`mail` extension; CLI commands, workers and benchmarks build one from the same settings. To the sync
and the IDLE watcher it is a `SyncHost` (mailcore/sync/host.py): sessions, `imap` and `request_sync`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailcore import db as maildb
from mailcore import leases
from mailcore.account import MailAccount
from mailcore.compose.system_mail import SystemMail
from mailcore.config import Settings
from mailcore.connect import MailClient, MailEnvironment
from mailcore.crypto import SecretBox
from mailcore.discovery.detect import Detector, DiscoveryNetwork
from mailcore.discovery.dnsquery import Dns
from mailcore.discovery.ispdb import DatabaseCache, Ispdb
from mailcore.discovery.providers import ProviderList
from mailcore.gate import RequestGate
from mailcore.keyfile import private_folder
from mailcore.models import Account
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks, parse_ports
from mailcore.notify import Pusher, vapid_key
from mailcore.oauth.client import OAuthRegistry, registrations_from
from mailcore.oauth.tokens import TokenKeeper
from mailcore.sync.engine import SyncSummary
from mailcore.sync.jobs import InlineRunner, Runner, SyncJob, ThreadRunner, run_job


@dataclass
class Installation:
    engine: Engine
    sessions: sessionmaker[Session]
    env: MailEnvironment
    box: SecretBox
    detector: Detector
    providers: ProviderList
    oauth: OAuthRegistry
    tokens: TokenKeeper
    system_mail: SystemMail | None = None  # the installation's own sender (verification links), if any
    sync_mode: str = Settings.sync_mode  # one of mailcore.config.SYNC_MODES
    sync_workers: int = Settings.sync_workers
    settings: Settings = field(default_factory=Settings)  # what it was built from
    runner: Runner | None = None
    push: Pusher | None = None  # Web Push of new mail; None when NOTIFICATIONS=0
    gate: RequestGate = field(default_factory=lambda: RequestGate(Settings.mail_requests_per_user))
    _runner_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: Mapping, instance: Path) -> Installation:
        """Built from the app's configuration (read as mailcore.config.Settings, see
        docs/configuration.md); brings the database up to date first."""
        settings = Settings.from_mapping(config)
        engine = maildb.make_engine(settings.database_url)
        if engine.dialect.name == "sqlite":
            private_folder(instance)
        maildb.upgrade(engine)
        providers = ProviderList.load(settings.mail_providers_file)
        ports = MAIL_PORTS | parse_ports(settings.mail_allowed_ports)
        ports |= {t.port for p in providers.providers for t in (p.incoming, p.outgoing) if t}
        dns = Dns(settings.mail_dns_server)
        policy = NetworkPolicy(parse_networks(settings.mail_allowed_networks), frozenset(ports), dns.addresses)
        env = MailEnvironment(policy, settings.mail_ca_bundle, settings.mail_timeout, settings.mail_deadline)
        box = SecretBox.from_config(settings.mail_encryption_key, instance / "mail.key")
        sessions = maildb.session_factory(engine)
        oauth = OAuthRegistry(providers, registrations_from(config), env)
        tokens = TokenKeeper(sessions, box, oauth, margin=timedelta(seconds=settings.oauth_refresh_margin))
        budget = settings.mail_discovery_budget
        network = DiscoveryNetwork(policy, env.tls_context, dns, settings.mail_autoconfig_port,
                                   budget=budget, step_timeout=min(4.0, budget))
        installation = cls(
            engine=engine, sessions=sessions, env=env, box=box,
            detector=Detector(providers, network, _ispdb(settings, sessions)), providers=providers,
            oauth=oauth, tokens=tokens,
            system_mail=SystemMail.from_url(settings.system_mail_url, settings.system_mail_from),
            sync_mode=settings.sync_mode, sync_workers=settings.sync_workers, settings=settings,
            gate=RequestGate(settings.mail_requests_per_user))
        if settings.notifications:
            subject = settings.vapid_subject or settings.external_url or (
                f"mailto:{settings.system_mail_from or 'postmaster@localhost'}")
            installation.push = Pusher(vapid_key(settings.vapid_private_key, instance / "vapid_private.pem"),
                                       subject, policy, env.tls_context, settings.mail_timeout)
        if installation.sync_mode == "inline":
            installation.runner = InlineRunner(installation)
        elif installation.sync_mode == "queue":
            from mailcore.sync.queue import SyncQueue  # Dramatiq and Redis only where the queue is used

            installation.runner = SyncQueue(installation, settings.queue_url)
        return installation

    def account(self, db: Session, row: Account,
                env: MailEnvironment | Callable[[], MailEnvironment] | None = None) -> MailAccount:
        """The connected account `row`, ready to act on its mail within the session `db`; `env` bounds a
        request a person waits on (MailEnvironment.until, or what gives it when a session first opens),
        else each answer has the full deadline."""
        return MailAccount(db, row, env or self.env, self.box, self.tokens)

    def imap(self, db: Session, row: Account) -> AbstractContextManager[MailClient]:
        """A logged-in IMAP session of the account `row` (what the sync and the watcher open)."""
        return self.account(db, row).imap()

    def run_job(self, job: SyncJob) -> SyncSummary:
        return run_job(self, job)

    def start_workers(self) -> None:
        """Embedded mode: worker threads, a scheduler and the IDLE watcher in this process, started
        once (by the first request, so CLI commands never start them)."""
        if self.sync_mode != "embedded" or self.runner is not None:
            return
        with self._runner_lock:
            if self.runner is None:
                self.runner = ThreadRunner(self, workers=self.sync_workers,
                                           watch_lease=self.settings.watch_lease).start()

    def request_sync(self, account_id: int, folder: str | None = None) -> None:
        """Ask for a sync now, through the database, so whichever worker runs (thread or process)
        picks it up; the embedded or inline runner is also handed the job directly. In queue mode
        the queue carries it, and the database only when the broker cannot be reached."""
        if self.sync_mode == "queue" and self.runner is not None and self.runner.submit(SyncJob(account_id, folder)):
            return
        leases.make_due(self.sessions, account_id)
        if self.runner is not None and self.sync_mode != "queue":
            self.runner.submit(SyncJob(account_id, folder))


def _ispdb(settings: Settings, sessions: sessionmaker[Session]) -> Ispdb | None:
    """The central ISPDB lookup, its answers cached in the database; None when MAIL_ISPDB_URL is empty."""
    return Ispdb(settings.mail_ispdb_url, DatabaseCache(sessions)) if settings.mail_ispdb_url else None
