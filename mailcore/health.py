"""`flask --app app check`: what an operator has set up wrong, found before users find it.

Each check says ok, a warning (works, but not as a deployment should) or a problem (something
will fail); the command exits non-zero when there is a problem.
"""

from __future__ import annotations

import base64
import binascii
import ssl
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from mailcore import errors
from mailcore.config import SYNC_MODES, Settings
from mailcore.crypto import SecretBoxError
from mailcore.models import Account, SyncState, utcnow
from mailcore.passwords import DEFAULT_METHOD, weaker_than_default

if TYPE_CHECKING:
    from mailcore.installation import Installation

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass(frozen=True)
class Finding:
    level: str
    area: str
    text: str

    def line(self) -> str:
        return f"{self.level:<8} {self.area:<9} {self.text}"


def check(config: Mapping, installation: Installation, instance: Path) -> list[Finding]:
    return [*_database(config, installation), *_sync(config, installation), *_keys(config, installation, instance),
            *_passwords(config), *_external_url(config)]


def _database(config: Mapping, installation: Installation) -> Iterator[Finding]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from mailcore.db import MIGRATIONS

    url = installation.engine.url.render_as_string(hide_password=True)
    try:
        with installation.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        yield Finding(PROBLEM, "database", f"cannot reach {url}: {type(exc.orig or exc).__name__}: "
                                           f"{str(exc.orig or exc).strip().splitlines()[0]}")
        return
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current != head:
        yield Finding(PROBLEM, "database", f"{url} is at migration {current}, this version needs {head}")
    else:
        yield Finding(OK, "database", f"{url}, migrations at {head} (the newest)")
    if installation.engine.dialect.name == "sqlite" and config.get("SYNC_MODE") in ("queue", "external"):
        yield Finding(WARNING, "database", "SQLite serves one machine and few processes; with separate sync "
                                           "workers and several web workers use PostgreSQL (DATABASE_URL)")


def _sync(config: Mapping, installation: Installation) -> Iterator[Finding]:
    mode = Settings.from_mapping(config).sync_mode
    if mode not in SYNC_MODES:
        yield Finding(PROBLEM, "sync", f"SYNC_MODE={mode} is none of {', '.join(SYNC_MODES)}")
        return
    if mode == "inline":
        yield Finding(WARNING, "sync", "SYNC_MODE=inline syncs inside web requests: for tests, not for users")
    if mode != "queue":
        yield Finding(OK, "sync", f"SYNC_MODE={mode}")
        return
    yield from queue_url_findings(Settings.from_mapping(config).queue_url)
    yield from _queue(installation)


def queue_url_findings(url: str) -> Iterator[Finding]:
    """Redis off this machine carries sync jobs across the network: it needs a password (AUTH), and TLS."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "unix" or (parts.hostname or "127.0.0.1") in ("127.0.0.1", "localhost", "::1"):
        return
    if not parts.password:
        yield Finding(WARNING, "queue", f"QUEUE_URL reaches {parts.hostname} without a password: anyone who can "
                                        f"reach it can read and add sync jobs. Set Redis AUTH and put it in the "
                                        f"URL (redis://:PASSWORD@host:port/0)")
    if parts.scheme != "rediss":
        yield Finding(WARNING, "queue", f"QUEUE_URL reaches {parts.hostname} without TLS: use rediss://")


def _queue(installation: Installation) -> Iterator[Finding]:
    import redis

    from mailcore.sync.queue import BACKGROUND_QUEUE, NAMESPACE, QUEUE_NAME

    client = installation.runner.redis
    where = client.connection_pool.connection_kwargs
    name = f"redis://{where.get('host')}:{where.get('port')}/{where.get('db', 0)}"
    try:
        client.ping()
        workers = client.zcount(f"{NAMESPACE}:__heartbeats__", (time.time() - 60) * 1000, "+inf")
        waiting = client.llen(f"{NAMESPACE}:{QUEUE_NAME}") + client.llen(f"{NAMESPACE}:{BACKGROUND_QUEUE}")
    except (redis.RedisError, OSError) as exc:
        yield Finding(PROBLEM, "queue", f"cannot reach the queue at {name} (QUEUE_URL): {exc}")
        return
    yield Finding(OK, "queue", f"{name} answers; {waiting} sync jobs waiting")
    if not workers:
        yield Finding(PROBLEM, "queue", "no sync worker has been seen in the last minute: run `flask sync worker`")
    else:
        yield Finding(OK, "queue", f"{workers} sync worker processes seen in the last minute")
    now = utcnow()
    with installation.sessions() as db:
        connected = db.scalar(select(func.count(Account.id)).where(Account.sync_state == SyncState.OK)) or 0
        unwatched = db.scalar(select(func.count(Account.id)).where(
            Account.sync_state == SyncState.OK,
            or_(Account.watch_lease_until.is_(None), Account.watch_lease_until < now))) or 0
    if unwatched and unwatched == connected:
        yield Finding(PROBLEM, "queue", f"none of the {connected} connected accounts is watched for new mail: "
                                        f"run `flask sync watch`")
    elif unwatched:
        yield Finding(WARNING, "queue", f"{unwatched} of {connected} connected accounts are not watched for new "
                                        f"mail: the watchers are full (--accounts) or starting")


def _keys(config: Mapping, installation: Installation, instance: Path) -> Iterator[Finding]:
    secret_file = instance / "secret_key"
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < 32:
        yield Finding(PROBLEM, "keys", "SECRET_KEY is shorter than 32 characters: sessions could be forged")
    elif secret_file.exists() and secret_file.read_text().strip() == secret:
        yield Finding(OK, "keys", f"SECRET_KEY from {secret_file}: every web process and machine must read "
                                  f"this same file (or set SECRET_KEY to one value everywhere)")
    else:
        yield Finding(OK, "keys", "SECRET_KEY from the environment: set it to the same value for every process")
    for path in (secret_file, instance / "mail.key"):
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            yield Finding(PROBLEM, "keys", f"{path} can be read by other users: chmod 600 {path}")
    yield from _files(installation, instance)
    env_key = config.get("MAIL_ENCRYPTION_KEY")
    if env_key:
        try:
            if len(base64.urlsafe_b64decode(env_key)) != 32:
                raise ValueError
        except (binascii.Error, ValueError):
            yield Finding(PROBLEM, "keys", "MAIL_ENCRYPTION_KEY is not 32 bytes in url-safe base64")
            return
    with installation.sessions() as db:
        accounts = list(db.scalars(select(Account).order_by(Account.id.desc()).limit(20)))
        unreadable = 0
        for account in accounts:
            try:
                installation.account(db, account).credentials  # noqa: B018 - opening them is the check
            except (SecretBoxError, errors.MailError):  # SecretUnreadable: the key does not open it
                unreadable += 1
    if unreadable:
        yield Finding(PROBLEM, "keys", f"the mail encryption key cannot open {unreadable} of the {len(accounts)} "
                                       f"newest accounts' passwords: restore the key they were sealed with "
                                       f"(MAIL_ENCRYPTION_KEY or {instance / 'mail.key'}), or they must log in again")
    else:
        source = "MAIL_ENCRYPTION_KEY" if env_key else str(instance / "mail.key")
        yield Finding(OK, "keys", f"mail passwords open with {source}"
                                  + (f" ({len(accounts)} accounts tried)" if accounts else "") + "; keep a copy")


def _passwords(config: Mapping) -> Iterator[Finding]:
    method = config.get("PASSWORD_HASH") or DEFAULT_METHOD
    if weaker_than_default(method):
        yield Finding(WARNING, "passwords", f"PASSWORD_HASH={method} makes CRM passwords cheaper to guess than "
                                            f"{DEFAULT_METHOD}: unset it (a cheap hash is for tests)")


def _files(installation: Installation, instance: Path) -> Iterator[Finding]:
    """The instance folder and an SQLite database hold every user's mail: for the app's account only."""
    if instance.exists() and stat.S_IMODE(instance.stat().st_mode) & 0o077:
        yield Finding(PROBLEM, "files", f"{instance} can be opened by other users: chmod 700 {instance}")
    database = installation.engine.url.database if installation.engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        for path in (Path(database), Path(database + "-wal"), Path(database + "-shm")):
            if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                yield Finding(PROBLEM, "files", f"{path} (every user's mail) can be read by other users: "
                                                f"chmod 600 {path}")


def _external_url(config: Mapping) -> Iterator[Finding]:
    url = (config.get("EXTERNAL_URL") or "").rstrip("/")
    if not url:
        yield Finding(WARNING, "url", "EXTERNAL_URL is not set: set it to the address users open, "
                                      "so that it can be checked")
        return
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    if scheme not in ("http", "https") or not host:
        yield Finding(PROBLEM, "url", f"EXTERNAL_URL={url} is not an http(s) address")
        return
    if scheme == "http" and host not in ("localhost", "127.0.0.1", "[::1]"):
        yield Finding(PROBLEM, "url", f"EXTERNAL_URL={url} is plain http: passwords and session cookies would "
                                      f"cross the network unencrypted; serve it over https")
    if scheme == "https" and not config.get("BEHIND_PROXY"):
        yield Finding(WARNING, "url", "https is served by a proxy in front of gunicorn? Set BEHIND_PROXY=1 so that "
                                      "the app sees https (Secure cookies, right redirects) and each browser's own "
                                      "address, which the sign-in limits count by")
    try:
        context = ssl.create_default_context()
        with urllib.request.urlopen(f"{url}/signin", timeout=5, context=context) as answer:
            page = answer.read(200_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        yield Finding(PROBLEM, "url", f"{url}/signin answers {exc.code}")
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        yield Finding(PROBLEM, "url", f"{url}/signin cannot be reached: {reason}")
        return
    if 'name="csrf_token"' not in page:
        yield Finding(PROBLEM, "url", f"{url}/signin answers, but not with Inkorg's sign-in page")
    else:
        yield Finding(OK, "url", f"{url} answers with the sign-in page")
