"""The people compose suggests as recipients: the CRM's (the user's own addresses and the verified
ones on every card), and those the user mailed or got mail from. One entry per address, with a name
where any source has one; CRM names first, then the most recent correspondents."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.utils import getaddresses

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.models import ArchivedEmail, ContactEmail, Folder, Message, Person, Role, User

LIMIT = 500
RECENT_SENDERS = 400  # distinct senders of received mail looked at, newest first
RECENT_SENT = 150  # sent messages whose recipients are read
HEAD_BYTES = 16384  # of each, enough for its headers


def suggestions(db: Session, user: User, limit: int = LIMIT) -> list[tuple[str, str]]:
    """(name, address) pairs, names possibly empty, each address once."""
    found: dict[str, tuple[str, str]] = {}

    def add(name: str, address: str) -> None:
        address = (address or "").strip()
        if "@" not in address or len(found) >= limit or any(c in address for c in " ,;<>\"\r\n"):
            return
        key = normalise_address(address)
        name = " ".join((name or "").replace('"', "").split())
        if name.lower() == address.lower():
            name = ""
        if key not in found or (name and not found[key][0]):
            found[key] = (name, address)

    crm = (select(Person.first_name, Person.last_name, ContactEmail.address)
           .join(Person, Person.id == ContactEmail.person_id)
           .where(or_(ContactEmail.person_id == user.person_id, ContactEmail.verified_at.is_not(None)))
           .order_by(ContactEmail.address).limit(limit))
    for first, last, address in db.execute(crm):
        add(" ".join(part for part in (first, last) if part), address)
    if user.account is None:
        return list(found.values())
    folders = {f.id: f.role for f in db.scalars(select(Folder).where(Folder.account_id == user.account.id))}
    sent = [fid for fid, role in folders.items() if role == Role.SENT]
    received = [fid for fid, role in folders.items() if role not in (Role.SENT, Role.DRAFTS, Role.JUNK, Role.TRASH)]
    if sent:  # the copies this app filed keep their bytes: read their To and Cc
        parser = BytesHeaderParser()
        head = func.substr(Message.raw, 1, HEAD_BYTES)  # the headers, not the attachments
        rows = db.execute(select(head).where(Message.folder_id.in_(sent), Message.raw.is_not(None))
                          .order_by(Message.date.desc()).limit(RECENT_SENT))
        for (raw,) in rows:
            headers = parser.parsebytes(bytes(raw).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            for name, address in getaddresses([str(v) for v in headers.get_all("To", []) + headers.get_all("Cc", [])]):
                add(name, address)
    for (recipients,) in db.execute(select(ArchivedEmail.recipients).where(ArchivedEmail.user_id == user.id)
                                    .order_by(ArchivedEmail.sent_at.desc()).limit(RECENT_SENT)):
        for name, address in getaddresses([recipients]):
            add(name, address)
    if received:
        senders = (select(Message.sender_name, Message.sender_address)
                   .where(Message.folder_id.in_(received), Message.sender_address != "")
                   .order_by(Message.date.desc()).limit(RECENT_SENDERS * 4))
        for name, address in db.execute(senders):
            if address.lower() != user.account.address.lower():
                add(name, address)
    return list(found.values())
