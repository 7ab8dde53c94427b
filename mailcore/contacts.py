"""Contact-card addresses: which ones are verified, and what only a verified address may do.

An address typed onto a card proves nothing: anyone can type anyone's address. It becomes verified
when it is
- the user's sign-in address (the operator created the user with it);
- the address of a mail account the user logged in to with settings found for that address (the
  provider list, or the domain's own autoconfig, DNS or servers). Settings typed by hand may name any
  server, so logging in with them proves nothing about the address;
- or the user opened a signed, expiring link mailed to the address by the installation's own sender
  (never the user's account: its Sent folder, or its own server, would hand the user the link).

Only a verified address counts: as the first address for sending, for linking an archived email to
a card, and among the addresses compose suggests to other users. A user sees an archived email when
they archived it, or when it was sent to a verified address on their card.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address, same_address
from mailcore.attempts import count_attempt
from mailcore.models import Account, ArchivedEmail, ArchivedEmailLink, AttemptKind, ContactEmail, User, utcnow

MISMATCH = "mismatch"  # the first address is not the account's
UNVERIFIED = "unverified"  # it is, but nobody has shown that it belongs to this user
MANUAL = "manual"  # Account.settings_source of settings typed in Advanced settings
# Account.settings_source of found settings whose login proves only part of the address (a user name that
# is the local part at a provider of several domains), or of an OAuth sign-in without a verified email
UNPROVEN = "unproven"
LINK_SALT = "inkorg.contact-email-verification"
LINKS_PER_WINDOW = 3
LINK_WINDOW = timedelta(minutes=5)


class LinkInvalid(Exception):
    """A verification link that is forged, expired, for another user or for an address no longer on the card."""


# --- what is verified -----------------------------------------------------------------------


def proves_address(account: Account | None) -> bool:
    """Whether logging in to this account showed that its address is the user's."""
    return account is not None and account.settings_source not in (MANUAL, UNPROVEN)


def login_proves(address: str, username: str, provider_domains: frozenset[str] | None) -> bool:
    """Whether logging in with found settings proves the whole address: the user name is the address, or
    the provider serves one domain only (so the local part names one address). At web.de, which also
    serves email.de, a login as `anna` proves neither anna@web.de nor anna@email.de."""
    return same_address(username, address) or (provider_domains is not None and len(provider_domains) == 1)


def verify_proven(user: User) -> None:
    """Mark the card's addresses that the user has already proven: sign-in address, proven account."""
    proven = [user.email] + ([user.account.address] if proves_address(user.account) else [])
    for item in user.contact_emails:
        if item.verified_at is None and any(same_address(item.address, address) for address in proven):
            item.verified_at = utcnow()


def sending_rule(user: User, account_address: str | None) -> str | None:
    """None when the user may send from account_address; otherwise MISMATCH or UNVERIFIED."""
    first = user.contact_emails[0] if user.contact_emails else None
    if first is None or not same_address(first.address, account_address):
        return MISMATCH
    return None if first.verified else UNVERIFIED


def own_address(user: User, email_id: int) -> ContactEmail | None:
    return next((item for item in user.contact_emails if item.id == email_id), None)


# --- archived emails ------------------------------------------------------------------------


def archive(db: Session, user: User, message: EmailMessage, recipients: list[str], raw: bytes) -> ArchivedEmail:
    """Keep a sent email in the CRM, linked to every card that holds a recipient as a verified address."""
    archived = ArchivedEmail(user_id=user.id, message_id=str(message["Message-ID"]), subject=str(message["Subject"]),
                             recipients=", ".join(recipients), raw=raw, sender=str(message["From"] or "")[:640],
                             incoming=False, size=len(raw))
    db.add(archived)
    db.flush()
    normalised = sorted({normalise_address(r) for r in recipients})
    verified = select(ContactEmail).where(ContactEmail.normalised.in_(normalised),
                                          ContactEmail.verified_at.is_not(None))
    for item in db.scalars(verified):
        db.add(ArchivedEmailLink(archived_email_id=archived.id, contact_email_id=item.id))
    db.commit()
    return archived


def archived_for(db: Session, user: User, limit: int = 50) -> list[ArchivedEmail]:
    """What the user's card lists: emails archived to its verified addresses, and those the user archived."""
    to_card = (select(ArchivedEmailLink.archived_email_id)
               .join(ContactEmail, ContactEmail.id == ArchivedEmailLink.contact_email_id)
               .where(ContactEmail.person_id == user.person_id, ContactEmail.verified_at.is_not(None)))
    return list(db.scalars(select(ArchivedEmail)
                           .where(or_(ArchivedEmail.user_id == user.id, ArchivedEmail.id.in_(to_card)))
                           .order_by(ArchivedEmail.sent_at.desc(), ArchivedEmail.id.desc()).limit(limit)))


# --- verification links ---------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=LINK_SALT)


def link_token(secret: str, user: User, item: ContactEmail) -> str:
    """Signed and dated; names the user, the card entry and its address, so it fits nothing else."""
    return _serializer(secret).dumps({"u": user.id, "e": item.id, "a": item.address.lower()})


def redeem(secret: str, user: User, token: str, max_age: timedelta) -> ContactEmail:
    """The card entry a link verifies, for the signed-in user; LinkInvalid when it does not fit."""
    try:
        data = _serializer(secret).loads(token, max_age=max(1, int(max_age.total_seconds())))
    except BadSignature:  # also SignatureExpired
        raise LinkInvalid() from None
    if not isinstance(data, dict) or data.get("u") != user.id:
        raise LinkInvalid()
    item = own_address(user, data.get("e"))
    if item is None or item.address.lower() != data.get("a"):
        raise LinkInvalid()
    return item


def confirm(db: Session, item: ContactEmail) -> None:
    if item.verified_at is None:
        item.verified_at = utcnow()
    db.commit()


def count_link(db: Session, user: User) -> None:
    """A user may have only a few links sent in a while: each one is an email to any address."""
    count_attempt(db, user.id, AttemptKind.VERIFICATION, LINKS_PER_WINDOW, LINK_WINDOW)


def link_message(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(("", to))
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message
