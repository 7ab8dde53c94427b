"""The CRM sign-in, a CRM user's own login to the app (not the provider sign-in of
mailcore.oauth, nor the Set up email account dialog's login to the mailbox): who may sign in, and
for how long: throttled sign-in, server-side sessions, and the operator's password change and user
removal, which end that user's sessions.

Counters and sessions live in the database, so every web worker shares them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.models import SignInAttempt, User, UserSession, utcnow
from mailcore.passwords import DEFAULT_METHOD, hash_password
from mailcore.services import authenticate


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins within `window`: past `per_account` per typed user name (or per browser that has
    signed in as that name before), each further try waits, `first_delay` and then twice as long each
    time (never more than the window); past `per_client` per client address, that address waits for the
    window, except a browser that has signed in as that name before."""

    per_account: int = 5
    per_client: int = 20
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=30)
    # the cost of a new password's hash, and of the hash checked for a user name nobody has
    password_method: str = DEFAULT_METHOD


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta = timedelta(hours=12)
    longest: timedelta = timedelta(days=14)


CLEARED = "-"  # the account key of failures a later right password has forgiven


class TooManyFailures(Exception):
    """Sign-in refused without looking at the password; `retry_after` in whole seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


# --- throttled sign-in ---------------------------------------------------------------------------


def account_key(user_name: str) -> str:
    """The typed user name as the sign-in compares it, hashed: a password typed into the user name
    field by mistake is never stored."""
    return hashlib.sha256(normalise_address(user_name).encode()).hexdigest()


def client_key(address: str | None) -> str:
    """An IPv6 client usually holds a whole /64, so it counts as one client."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def device_key(device: str) -> str:
    """A device cookie's nonce as its failures are counted (in the client column)."""
    return "device:" + hashlib.sha256(device.encode()).hexdigest()[:40]


def sign_in(db: Session, user_name: str, password: str, client: str | None, limits: SignInLimits,
            device: str | None = None) -> User | None:
    """The user when the password is right, None when it is wrong (or the user unknown: the same
    answer at the same cost). Raises TooManyFailures while the user name (growing delays) or the
    client address (its limit) must wait.

    `device`: the nonce of this browser's device cookie for this user name (OWASP's device cookies):
    it has signed in as this name before, so strangers' failures against the name or from its address
    never hold it back; only its own failures do, with the same growing delays.

    The attempt is recorded and committed before counting, so N parallel guesses see each other and
    at most the limit of them reach the password check."""
    key = account_key(user_name)
    attempt = SignInAttempt(account_key=key if device is None else CLEARED,
                            client_key=client_key(client) if device is None else device_key(device), at=utcnow())
    db.execute(delete(SignInAttempt).where(SignInAttempt.at < utcnow() - limits.window))
    db.add(attempt)
    db.commit()
    retry_after = _retry_after(db, attempt, limits, trusted=device is not None)
    if retry_after is not None:
        db.delete(attempt)  # not a failure: the password was not looked at
        db.commit()
        raise TooManyFailures(retry_after)
    user = authenticate(db, user_name, password, limits.password_method)
    if user is not None:
        # a right password clears that user name's failures; they still count for their clients
        db.delete(attempt)
        db.execute(update(SignInAttempt).where(SignInAttempt.account_key == key).values(account_key=CLEARED))
        if device is not None:
            db.execute(delete(SignInAttempt).where(SignInAttempt.client_key == attempt.client_key))
        db.commit()
    return user


def _retry_after(db: Session, attempt: SignInAttempt, limits: SignInLimits, trusted: bool = False) -> int | None:
    """Seconds to wait before this attempt may be looked at, or None.

    Per user name (or, for a trusted browser, per its device cookie): growing delays past the limit,
    counted from the newest failure, so a stranger's guesses slow themselves down and never lock the
    user out for long. Per client address: the window, as before; a trusted browser skips it."""
    since = attempt.at - limits.window
    waits = []
    column, key = ((SignInAttempt.client_key, attempt.client_key) if trusted
                   else (SignInAttempt.account_key, attempt.account_key))
    times = list(db.scalars(select(SignInAttempt.at).where(column == key, SignInAttempt.at >= since,
                                                           SignInAttempt.id != attempt.id)
                            .order_by(SignInAttempt.at.desc()).limit(limits.per_account + 16)))
    if len(times) >= limits.per_account:
        delay = min(limits.window, limits.first_delay * 2 ** (len(times) - limits.per_account))
        waits.append((_aware(times[0]) + delay - attempt.at).total_seconds())
    if not trusted:
        times = list(db.scalars(select(SignInAttempt.at).where(
            SignInAttempt.client_key == attempt.client_key, SignInAttempt.at >= since, SignInAttempt.id != attempt.id)
            .order_by(SignInAttempt.at.desc()).limit(limits.per_client)))
        if len(times) >= limits.per_client:
            # free again when the limit-th newest earlier attempt leaves the window
            waits.append((_aware(times[-1]) + limits.window - attempt.at).total_seconds())
    waits = [wait for wait in waits if wait > 0]
    if not waits:
        return None
    return max(1, int(max(waits)) + 1)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- sessions ------------------------------------------------------------------------------------


def _token_id(token: str) -> str:
    """Only the token's hash is stored, so a copy of the database opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Session, user: User, limits: SessionLimits) -> str:
    """A new session for a user who just signed in; the token goes into the cookie."""
    now = utcnow()
    db.execute(delete(UserSession).where(or_(UserSession.last_seen_at < now - limits.idle,
                                             UserSession.created_at < now - limits.longest)))
    token = secrets.token_urlsafe(32)
    db.add(UserSession(id=_token_id(token), user_id=user.id, created_at=now, last_seen_at=now))
    db.commit()
    return token


def session_user(db: Session, user_id: object, token: object, limits: SessionLimits,
                 touch: bool = True) -> User | None:
    """The user of a live session: the row exists, belongs to that user, has been used within the
    idle time and is younger than the longest lifetime. With `touch`, records the use (at most once
    a minute)."""
    if not isinstance(user_id, int) or not isinstance(token, str):
        return None
    now = utcnow()
    row = db.scalar(select(UserSession).where(
        UserSession.id == _token_id(token), UserSession.user_id == user_id,
        UserSession.last_seen_at >= now - limits.idle, UserSession.created_at >= now - limits.longest))
    if row is None:
        return None
    if touch and now - _aware(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = now
        db.commit()
    return db.get(User, user_id)


def session_key(token: object) -> str:
    """What names the session behind `token` without opening it (the stored hash): for addresses bound
    to the session, such as a message's inline images."""
    return _token_id(token) if isinstance(token, str) else ""


def session_live(db: Session, user_id: object, key: object, limits: SessionLimits) -> bool:
    """Whether the session `key` (session_key) of this user is still live; nothing is recorded."""
    if not isinstance(user_id, int) or not isinstance(key, str) or not key:
        return False
    now = utcnow()
    return db.scalar(select(UserSession.id).where(
        UserSession.id == key, UserSession.user_id == user_id,
        UserSession.last_seen_at >= now - limits.idle, UserSession.created_at >= now - limits.longest)) is not None


def end_session(db: Session, token: object) -> None:
    if isinstance(token, str):
        db.execute(delete(UserSession).where(UserSession.id == _token_id(token)))
        db.commit()


def end_all_sessions(db: Session, user: User) -> int:
    ended = db.execute(delete(UserSession).where(UserSession.user_id == user.id)).rowcount
    db.commit()
    return ended


# --- the operator's user commands -----------------------------------------------------------------


def change_password(db: Session, user: User, password: str, method: str = DEFAULT_METHOD) -> int:
    """Sets a new CRM password and ends every session of the user; the number ended."""
    user.password_hash = hash_password(password, method)
    db.commit()
    return end_all_sessions(db, user)


def remove_user(db: Session, user: User) -> None:
    """Removes the user with their contact card, mail account, archive and sessions."""
    end_all_sessions(db, user)
    db.delete(user)
    db.commit()
