"""Archive email: a message (or one of its attachments) kept whole in the CRM, linked to a contact and a
company, visible to all users or only to the user who archived it.

Archiving the same message again (the same Message-ID, or the same bytes when it has none) changes its
contact, company and visibility: it is never stored twice for one user. Every query that reads archived
emails goes through `visible_to`, so another user's private archive is never found, listed or opened.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.crm import people
from mailcore.models import ArchivedEmail, Company, Person, User, utcnow

MOST_RECIPIENTS = 200  # addresses of one message kept in `recipients`
MOST_HEADER_BYTES = 1024 * 1024  # of a message's header block read
HEADER_END = re.compile(rb"\r?\n\r?\n")


visible_to = people.archived_visible_to  # visible to all users, or archived by the viewer


@dataclass
class Headers:
    message_id: str
    subject: str
    sender: str  # "Name <address>" as the From header has it
    sender_address: str
    recipients: list[str]  # To and Cc
    date: datetime | None
    in_reply_to: list[str]  # In-Reply-To and References, newest first


def _text(value) -> str:
    return " ".join(str(value or "").split())


def headers_of(raw: bytes) -> Headers:
    """What archiving reads of a message: its headers only (a large body is not even read)."""
    end = HEADER_END.search(raw, 0, MOST_HEADER_BYTES)
    message = BytesHeaderParser(policy=default).parsebytes(raw[:end.end() if end else MOST_HEADER_BYTES])
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        date = None
    try:
        sender = _text(message["From"])
        pairs = getaddresses([str(value) for value in message.get_all("To", []) + message.get_all("Cc", [])])
    except (TypeError, ValueError, IndexError):
        sender, pairs = "", []
    message_id = _text(message["Message-ID"])[:500]
    if not message_id:  # the same bytes are the same message
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    references = (_text(message["In-Reply-To"]) + " " + _text(message["References"])).split()
    return Headers(message_id=message_id, subject=_text(message["Subject"])[:1000], sender=sender[:640],
                   sender_address=parseaddr(sender)[1], recipients=[a for _, a in pairs if a][:MOST_RECIPIENTS],
                   date=date, in_reply_to=list(dict.fromkeys(reversed(references)))[:50])


def own_addresses(user: User) -> set[str]:
    """The user's addresses, normalised: their account's and those on their card."""
    found = {normalise_address(item.address) for item in (user.person.emails if user.person else [])}
    if user.account is not None:
        found.add(normalise_address(user.account.address))
    return found | {normalise_address(user.email)}


@dataclass
class Choice:
    """What the Document dialog offers first: a contact and a company."""

    person: Person | None
    company: Company | None


def suggest(db: Session, user: User, headers: Headers) -> Choice:
    """The contact and company of the sender, or, for mail the user sent, of the first known recipient."""
    mine = own_addresses(user)
    incoming = normalise_address(headers.sender_address) not in mine
    addresses = [headers.sender_address] if incoming else [a for a in headers.recipients
                                                          if normalise_address(a) not in mine]
    persons = people.persons_for(db, addresses, viewer=user)
    for address in addresses:
        held = persons.get(normalise_address(address), [])
        if held:
            return Choice(held[0], held[0].company)
    for address in addresses:
        companies = people.companies_for(db, address)
        if companies:
            return Choice(None, companies[0])
    return Choice(None, None)


def archive(db: Session, user: User, raw: bytes, *, person: Person | None, company: Company | None,
            visible_to_all: bool, attachment: tuple[str, str, bytes] | None = None,
            automatic: bool = False, commit: bool = True) -> ArchivedEmail:
    """Keep a message (or, with `attachment` = (filename, content type, bytes), that attachment alone)
    in the CRM for `user`, linked to `person` and `company`. Archived already: only its links and
    visibility change."""
    headers = headers_of(raw)
    filename = attachment[0][:255] if attachment else None
    found = db.scalar(select(ArchivedEmail)
                      .where(ArchivedEmail.user_id == user.id, ArchivedEmail.message_id == headers.message_id,
                             ArchivedEmail.filename.is_(None) if filename is None
                             else ArchivedEmail.filename == filename)
                      .order_by(ArchivedEmail.id).limit(1))
    if found is not None and automatic:
        return found  # archived by hand (or before): automatic archiving changes nothing
    if found is None:
        stored = attachment[2] if attachment else raw
        found = ArchivedEmail(
            user_id=user.id, message_id=headers.message_id, subject=headers.subject,
            recipients=", ".join(headers.recipients), sent_at=headers.date or utcnow(), sender=headers.sender,
            incoming=normalise_address(headers.sender_address) not in own_addresses(user),
            filename=filename, content_type=attachment[1][:255] if attachment else None,
            size=len(stored), raw=stored, automatic=automatic)
        db.add(found)
    found.person_id = person.id if person is not None else None
    found.company_id = company.id if company is not None else (
        person.company_id if person is not None else None)
    found.visible_to_all = visible_to_all
    found.archived_at = utcnow()
    if commit:
        db.commit()
    else:
        db.flush()
    return found


def change(db: Session, archived: ArchivedEmail, *, person: Person | None, company: Company | None,
           visible_to_all: bool) -> ArchivedEmail:
    """New links and visibility for an email archived already (Send and archive's Document dialog)."""
    archived.person_id = person.id if person is not None else None
    archived.company_id = company.id if company is not None else (person.company_id if person else None)
    archived.visible_to_all = visible_to_all
    db.commit()
    return archived


def find(db: Session, viewer: User, archived_id: int) -> ArchivedEmail | None:
    """One archived email, when `viewer` may see it."""
    return db.scalar(select(ArchivedEmail).where(ArchivedEmail.id == archived_id, visible_to(viewer)))


def mine(db: Session, user: User, archived_id: int) -> ArchivedEmail | None:
    """One archived email the user archived (theirs to change)."""
    return db.scalar(select(ArchivedEmail).where(ArchivedEmail.id == archived_id, ArchivedEmail.user_id == user.id))


def archived_by_message_id(db: Session, user: User, message_ids: Sequence[str]) -> ArchivedEmail | None:
    """The newest email visible to `user` whose Message-ID is one of these (a reply's In-Reply-To and
    References): what a reply is archived with."""
    wanted = [item for item in message_ids if item][:50]
    if not wanted:
        return None
    return db.scalar(select(ArchivedEmail)
                     .where(ArchivedEmail.message_id.in_(wanted), ArchivedEmail.filename.is_(None), visible_to(user))
                     .order_by(ArchivedEmail.id.desc()).limit(1))
