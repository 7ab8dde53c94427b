"""The central ISPDB: Thunderbird's database of providers' settings, one config-v1.1.xml document per
domain at `<MAIL_ISPDB_URL><domain>` (by default https://autoconfig.thunderbird.net/v1.1/).

Fetched exactly as a domain's own autoconfig document is (mailcore.discovery.autoconfig.fetch: the
pinned, verified HTTPS client, the network rule, 64 KB, one wall-clock deadline, redirects only within
the same registrable domain and port) and read by the same parser. Only the domain is sent, never the
address. Answers are cached in the database (`ispdb_answers`): a document for a day, a failure for an
hour, so a company's hundred users of one domain cause one lookup; a small copy in memory answers
repeated questions in the same process without the database.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote, urlsplit

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mailcore import clock
from mailcore.deadline import remaining
from mailcore.discovery import autoconfig
from mailcore.netpolicy import NetworkPolicy

log = logging.getLogger(__name__)

DEFAULT_URL = "https://autoconfig.thunderbird.net/v1.1/"
ANSWER_LIFETIME = timedelta(days=1)
FAILURE_LIFETIME = timedelta(hours=1)
_MEMORY_ENTRIES = 512


@dataclass(frozen=True)
class Answer:
    """What the ISPDB said for a domain: its document, or why there is none."""

    document: bytes | None
    detail: str
    expires_at: datetime
    cached: bool = False

    @property
    def fresh(self) -> bool:
        return clock.now() < self.expires_at


class AnswerCache(Protocol):
    def get(self, domain: str) -> Answer | None: ...

    def put(self, domain: str, answer: Answer) -> None: ...


class MemoryCache:
    """Answers in this process only, the newest _MEMORY_ENTRIES of them."""

    def __init__(self, size: int = _MEMORY_ENTRIES):
        self.size = size
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()

    def get(self, domain: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(domain)
        if answer is None or not answer.fresh:
            return None
        return answer if answer.cached else replace(answer, cached=True)

    def put(self, domain: str, answer: Answer) -> None:
        with self._lock:
            self._answers.pop(domain, None)
            self._answers[domain] = replace(answer, cached=True)
            while len(self._answers) > self.size:
                self._answers.pop(next(iter(self._answers)))

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


class DatabaseCache:
    """Answers in the `ispdb_answers` table, shared by every process of the installation, with a
    MemoryCache in front."""

    def __init__(self, sessions: sessionmaker[Session], memory: MemoryCache | None = None):
        self.sessions = sessions
        self.memory = memory if memory is not None else MemoryCache()

    def get(self, domain: str) -> Answer | None:
        found = self.memory.get(domain)
        if found is not None:
            return found
        from mailcore.models import IspdbAnswer

        with self.sessions() as db:
            row = db.get(IspdbAnswer, domain)
            if row is None:
                return None
            answer = Answer(row.document, row.detail, _aware(row.expires_at), cached=True)
        if not answer.fresh:
            return None
        self.memory.put(domain, answer)
        return answer

    def put(self, domain: str, answer: Answer) -> None:
        from mailcore.models import IspdbAnswer

        self.memory.put(domain, answer)
        values = {"document": answer.document, "detail": answer.detail[:255], "fetched_at": clock.now(),
                  "expires_at": answer.expires_at}
        with self.sessions() as db:
            try:
                db.add(IspdbAnswer(domain=domain, **values))
                db.commit()
            except IntegrityError:  # kept before, or by another process just now: replaced
                db.rollback()
                db.execute(update(IspdbAnswer).where(IspdbAnswer.domain == domain).values(**values))
                db.commit()
        self._forget_expired()

    def _forget_expired(self) -> None:
        from sqlalchemy import delete

        from mailcore.models import IspdbAnswer

        with self.sessions() as db:
            db.execute(delete(IspdbAnswer).where(IspdbAnswer.expires_at < clock.now() - FAILURE_LIFETIME))
            db.commit()


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class IspdbUnavailable(autoconfig.AutoconfigError):
    """The ISPDB has no usable document for the domain (now, or when last asked: see `cached`)."""

    def __init__(self, detail: str, cached: bool = False):
        super().__init__(detail + (" (remembered)" if cached else ""))
        self.detail, self.cached = detail, cached


@dataclass
class Ispdb:
    """The central lookup at `base_url`; `cache` keeps its answers. Within a process, a domain is
    looked up once at a time: who asks while it is under way waits for that answer."""

    base_url: str
    cache: AnswerCache
    _under_way: dict[str, Future] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, domain: str) -> str:
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + quote(domain.lower().rstrip("."), safe="")

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 443

    def answer(self, domain: str, policy: NetworkPolicy, context: Callable[[], ssl.SSLContext] | ssl.SSLContext,
               deadline: float) -> Answer:
        """The cached answer for `domain`, else the ISPDB's, fetched before `deadline` and cached."""
        domain = domain.lower().rstrip(".")
        cached = self.cache.get(domain)
        if cached is not None:
            return cached
        with self._lock:
            pending = self._under_way.get(domain)
            if pending is None:
                mine = self._under_way[domain] = Future()
        if pending is not None:
            try:
                return pending.result(timeout=remaining(deadline))
            except TimeoutError:
                return Answer(None, "out of time (waiting for the lookup under way)", clock.now())
        try:
            answer = self._lookup(domain, policy, context, deadline)
            mine.set_result(answer)
            return answer
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._under_way.pop(domain, None)

    def _lookup(self, domain: str, policy: NetworkPolicy, context, deadline: float) -> Answer:
        tls = context() if callable(context) else context
        try:
            document = autoconfig.fetch(self.url(domain), policy, tls, deadline, self.port)
            autoconfig.parse(document, f"postmaster@{domain}")  # a document no address could use is a failure
        except autoconfig.AutoconfigError as exc:
            answer = Answer(None, str(exc), clock.now() + FAILURE_LIFETIME)
        else:
            answer = Answer(document, "", clock.now() + ANSWER_LIFETIME)
        try:
            self.cache.put(domain, answer)
        except Exception:  # a busy or unreachable database costs a lookup later, not this answer
            log.warning("the ISPDB's answer for %s could not be kept", domain, exc_info=True)
        return answer

    def document(self, domain: str, policy: NetworkPolicy, context, deadline: float) -> bytes:
        answer = self.answer(domain, policy, context, deadline)
        if answer.document is None:
            raise IspdbUnavailable(answer.detail, answer.cached)
        return answer.document


def oauth_issuer(document: bytes) -> str | None:
    """The host name of the sign-in service the document's <oAuth2> names, when its IMAP server
    offers OAuth2 authentication; None otherwise."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(document, forbid_dtd=True)
    except Exception:
        return None
    provider = root.find("emailProvider")
    if provider is None:
        return None
    imap_oauth = any((auth.text or "").strip().lower() == "oauth2"
                     for server in provider.findall("incomingServer") if server.get("type") == "imap"
                     for auth in server.findall("authentication"))
    issuer = (root.findtext("oAuth2/issuer") or provider.findtext("oAuth2/issuer") or "").strip().lower()
    return issuer or None if imap_oauth else None
