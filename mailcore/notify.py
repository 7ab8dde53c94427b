"""New mail finds the user: what a notification says of new INBOX messages, and Web Push to browsers
with no tab open.

The open tabs learn of new messages from the list they already poll (`arrivals`, asked only when
the list changed); a sync that stored new INBOX messages pushes them to the user's subscribed
browsers (`Pusher`), through each browser's push service (RFC 8030), encrypted for that browser
(RFC 8291, aes128gcm) and signed with the installation's VAPID key (RFC 8292). pywebpush does the
encryption and the signing: it is the Web Push library the push services' own documentation points
to, kept up with the RFCs (aes128gcm, VAPID with ES256) for a decade, on `cryptography` and
`http_ece`, which the tests check against an independent decryption.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.crm import people
from mailcore.https import pinned_session
from mailcore.keyfile import read_or_create
from mailcore.models import Account, Folder, Message, PushSubscription, Role, User
from mailcore.netpolicy import NetworkPolicy

log = logging.getLogger(__name__)
MOST = 20  # arrivals described at once; more become "N new emails" all the same
PUSH_TTL = 24 * 3600  # seconds a push service keeps a message for a browser that is offline


@dataclass(frozen=True)
class Arrival:
    """One new message as a notification shows it."""

    id: int
    uid: int  # in INBOX: what the open tabs compare with what they have seen
    sender: str  # the CRM contact's name where known, else the From name, else the address
    subject: str
    line: str  # the first line of the preview
    url: str  # opens the message: /inbox/?folder=<path>&message=<id>


def inbox_of(db: Session, account: Account) -> Folder | None:
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == Role.INBOX))


def newest_id(db: Session, folder: Folder | None) -> int:
    """The newest message row of the folder: what an open tab counts as already known."""
    if folder is None:
        return 0
    return db.scalar(select(func.coalesce(func.max(Message.id), 0)).where(Message.folder_id == folder.id)) or 0


def message_url(base: str, folder: Folder, message_id: int) -> str:
    """The inbox with the message open, the folder named by its path."""
    return f"{base}?folder={quote(folder.name, safe='')}&message={message_id}"


def arrivals(db: Session, user: User, account: Account, inbox: Folder, since: int, base: str,
             by_row: bool = False) -> list[Arrival]:
    """The unread INBOX messages after UID `since` (with `by_row`, after row id `since`), newest
    first, none the user sent (one query, and one for the CRM names of their senders)."""
    own = {normalise_address(a) for a in (account.address, user.email) if a}
    after = Message.id > since if by_row else Message.uid > since
    rows = [m for m in db.scalars(select(Message).where(Message.folder_id == inbox.id, after,
                                                          Message.seen.is_(False))
                                  .order_by(Message.uid.desc()).limit(MOST))
            if normalise_address(m.sender_address or "") not in own]
    return describe(db, user, inbox, rows, base)


def describe(db: Session, user: User, folder: Folder, rows: list[Message], base: str) -> list[Arrival]:
    persons = people.persons_for(db, [m.sender_address for m in rows], viewer=user) if rows else {}
    found = []
    for m in rows:
        held = persons.get(normalise_address(m.sender_address or ""), [])
        contact = " ".join(filter(None, (held[0].first_name, held[0].last_name))) if len(held) == 1 else ""
        line = (m.preview or "").strip().splitlines()[0] if (m.preview or "").strip() else ""
        found.append(Arrival(m.id, m.uid, contact or m.sender_name or m.sender_address, m.subject, line[:200],
                             message_url(base, folder, m.id)))
    return found


# --- Web Push --------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_key(env_value: str | None, key_file: Path):
    """The installation's VAPID signing key (P-256): from the environment (PEM, or the raw private
    number in base64url), else from the instance folder's vapid_private.pem, made on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def make() -> bytes:
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    text = env_value.strip().encode() if env_value else read_or_create(key_file, make)
    if text.startswith(b"-----BEGIN"):
        return serialization.load_pem_private_key(text, password=None)
    return ec.derive_private_key(int.from_bytes(_unb64(text.decode()), "big"), ec.SECP256R1())


class Pusher:
    """Sends a user's new INBOX messages to each browser they subscribed, and forgets a subscription
    its push service says is gone (404, 410)."""

    def __init__(self, key, subject: str, policy: NetworkPolicy, tls_context: Callable[[], ssl.SSLContext],
                 timeout: float = 10.0):
        from cryptography.hazmat.primitives import serialization
        from py_vapid import Vapid02

        self.vapid = Vapid02(private_key=key)
        point = key.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
        self.public_key = _b64(point)  # the browser's applicationServerKey
        self.subject, self.policy, self.tls_context, self.timeout = subject, policy, tls_context, timeout
        # the words of a notification in the user's language, given by the web layer: (language, count)
        # -> {"many": "3 new emails", "no_subject": "(no subject)"}
        self.texts: Callable[[str | None, int], dict] = lambda language, count: {
            "many": f"{count} new emails", "no_subject": "(no subject)"}
        self.base = "/inbox/"

    def permitted(self, endpoint: str) -> bool:
        """An HTTPS endpoint on an address the network rule allows, as for mail servers."""
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname:
            return False
        try:
            self.policy.with_ports(parts.port or 443).resolve(parts.hostname, parts.port or 443)
        except Exception:
            return False
        return True

    def subscribed(self, db: Session, user_id: int) -> bool:
        return db.scalar(select(PushSubscription.id).where(PushSubscription.user_id == user_id).limit(1)) is not None

    def payload(self, user: User, found: list[Arrival]) -> dict:
        texts = self.texts(user.language, len(found))
        return {"count": len(found), "many": texts["many"], "no_subject": texts["no_subject"],
                "url": self.base, "messages": [asdict(a) for a in found[:5]]}

    def send(self, db: Session, user: User, found: list[Arrival]) -> int:
        """One push per subscribed browser of the user; how many push services took it."""
        from pywebpush import WebPushException, webpush

        if not found:
            return 0
        data = json.dumps(self.payload(user, found), ensure_ascii=False)
        sent = 0
        gone: list[int] = []
        # to the address the network rule approved, with the installation's trust (as for OAuth issuers)
        http = pinned_session(self.policy, self.tls_context())
        subscriptions = list(db.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)))
        for item in subscriptions:
            if not self.permitted(item.endpoint):
                log.warning("push subscription %s: endpoint not allowed by the network rule", item.id)
                continue
            try:
                webpush({"endpoint": item.endpoint, "keys": {"p256dh": item.p256dh, "auth": item.auth}},
                        data=data, vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                        ttl=PUSH_TTL, timeout=self.timeout, requests_session=http,
                        headers={"Urgency": "normal", "Topic": "inkorg-new-mail"})
                sent += 1
            except WebPushException as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status in (404, 410):
                    gone.append(item.id)
                else:
                    log.warning("push subscription %s: the push service refused (%s)", item.id, status)
            except Exception as exc:  # a push service out of reach never stops the sync
                log.warning("push subscription %s: %s", item.id, exc)
        if gone:
            db.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            db.commit()
        return sent


def inbox_watermark(db: Session, account_id: int, pusher: Pusher | None) -> int | None:
    """Before a sync: the newest INBOX row, when its new messages are to be pushed (the user has a
    subscribed browser and INBOX's first sync is done); None otherwise."""
    if pusher is None:
        return None
    account = db.get(Account, account_id)
    if account is None or not pusher.subscribed(db, account.user_id):
        return None
    inbox = inbox_of(db, account)
    if inbox is None or not inbox.complete:
        return None
    return newest_id(db, inbox)


def push_new(db: Session, account_id: int, since: int, pusher: Pusher) -> int:
    """After a sync: push the INBOX messages stored since `since` to the user's browsers."""
    account = db.get(Account, account_id)
    inbox = inbox_of(db, account) if account is not None else None
    if account is None or inbox is None:
        return 0
    user = db.get(User, account.user_id)
    found = arrivals(db, user, account, inbox, since, pusher.base, by_row=True)
    return pusher.send(db, user, found) if found else 0


def subscribe(db: Session, user: User, session_id: str, endpoint: str, p256dh: str, auth: str) -> None:
    """Keep the browser's subscription, for this user and session (the same endpoint again replaces it)."""
    db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    db.add(PushSubscription(user_id=user.id, session_id=session_id, endpoint=endpoint, p256dh=p256dh, auth=auth))
    db.commit()


def unsubscribe(db: Session, user: User, endpoints: Iterable[str]) -> None:
    db.execute(delete(PushSubscription).where(PushSubscription.user_id == user.id,
                                              PushSubscription.endpoint.in_(list(endpoints))))
    db.commit()


def valid_keys(p256dh: str, auth: str) -> bool:
    """A P-256 public point (65 bytes) and a 16-byte secret, as browsers give them."""
    try:
        return len(_unb64(p256dh)) == 65 and _unb64(p256dh)[0] == 4 and len(_unb64(auth)) == 16
    except (ValueError, TypeError):
        return False
