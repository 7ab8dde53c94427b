"""Automatic archiving (Email options > General > Archive email with known contacts automatically): during
the sync, mail that arrives in INBOX from a known contact, or that the user sent to one (Sent), is archived
to that contact and their company, visible as the user chose; a reply to an archived email (by In-Reply-To
or References) is archived to the same contact and company. Addresses and domains on the user's Never
archive list are left alone, as is mail between CRM users.

Each folder keeps the highest UID looked at (Folder.archived_uid): the sync goes on from there in batches,
so no message is looked at, or archived, twice. Turning the option on starts from the mail then present.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import getaddresses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailcore.addresses import domain_of, normalise_address
from mailcore.crm import archive, people
from mailcore.models import Account, Company, Folder, Message, Person, Role, User
from mailcore.reading.message import MAX_FETCH

log = logging.getLogger(__name__)

BATCH = 50  # messages looked at per IMAP round trip
MOST_BATCHES = 20  # per folder and sync run; the next run goes on
ROLES = (Role.INBOX, Role.SENT)
HEADERS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES TO CC)]"


def never_list(text: str) -> list[str]:
    """The Never archive list as typed: addresses and domains, one a line (or comma separated), normalised."""
    return [normalise_address(item).lstrip("@") for item in text.replace(",", "\n").splitlines() if item.strip()]


def excluded(address: str, never: Sequence[str]) -> bool:
    """Whether the list names this address, or its domain (or a domain above it)."""
    key, domain = normalise_address(address), domain_of(address)
    return any(item == key or (domain and (domain == item or domain.endswith("." + item))) for item in never)


def start_over(db: Session, account: Account | None) -> None:
    """Automatic archiving turned on: it starts from the mail there now, never the mail before."""
    if account is not None:
        for folder in db.scalars(select(Folder).where(Folder.account_id == account.id)):
            folder.archived_uid = None


def _payload(data: dict) -> bytes:
    return next((value for key, value in data.items() if key.startswith(b"BODY[")), b"") or b""


def run(db: Session, account: Account, client, folders: Iterable[Folder]) -> int:
    """Archive what is due in INBOX and Sent; the number archived."""
    user = db.get(User, account.user_id)
    if user is None or not user.archive_automatically:
        return 0
    done = 0
    for folder in folders:
        if folder.role not in ROLES or not folder.selectable:
            continue
        if folder.archived_uid is None:  # from now on
            folder.archived_uid = db.scalar(select(func.max(Message.uid)).where(Message.folder_id == folder.id)) or 0
            db.commit()
            continue
        for _ in range(MOST_BATCHES):
            batch = list(db.scalars(select(Message).where(Message.folder_id == folder.id,
                                                          Message.uid > folder.archived_uid)
                                    .order_by(Message.uid).limit(BATCH)))
            if not batch:
                break
            done += _batch(db, user, client, folder, batch)
            folder.archived_uid = batch[-1].uid
            db.commit()
    return done


def _batch(db: Session, user: User, client, folder: Folder, batch: list[Message]) -> int:
    client.select_folder(folder.name, readonly=True)
    uids = [message.uid for message in batch]
    headers = {uid: BytesHeaderParser(policy=default).parsebytes(_payload(data))
               for uid, data in client.fetch(uids, [HEADERS]).items()}
    never = never_list(user.never_archive)
    mine = archive.own_addresses(user)
    sent = folder.role == Role.SENT
    wanted: dict[int, list[str]] = {}
    for message in batch:
        found = headers.get(message.uid)
        if found is None:
            continue  # gone from the server meanwhile
        if sent:
            try:
                pairs = getaddresses([str(v) for v in found.get_all("To", []) + found.get_all("Cc", [])])
            except (TypeError, ValueError, IndexError):
                pairs = []
            wanted[message.uid] = [a for _, a in pairs if a and normalise_address(a) not in mine]
        elif normalise_address(message.sender_address) not in mine:
            wanted[message.uid] = [message.sender_address]
    everyone = [address for addresses in wanted.values() for address in addresses]
    persons = people.persons_for(db, everyone, viewer=user)
    users = set(db.scalars(select(User.person_id).where(
        User.person_id.in_({p.id for held in persons.values() for p in held})))) if persons else set()
    chosen: dict[int, tuple[Person | None, int | None]] = {}
    in_batch: dict[str, tuple[Person | None, int | None]] = {}  # Message-ID: links, for replies in this batch
    for uid in sorted(wanted):
        addresses = [a for a in wanted[uid] if not excluded(a, never)]
        if not addresses:
            continue
        read = archive.headers_of(_header_bytes(headers[uid]))
        earlier = next((in_batch[item] for item in read.in_reply_to if item in in_batch), None)
        original = None if earlier or not read.in_reply_to else archive.archived_by_message_id(
            db, user, read.in_reply_to)
        if earlier is not None:
            chosen[uid] = earlier
        elif original is not None:
            chosen[uid] = (original.person, original.company_id)
        else:
            for address in addresses:
                held = [p for p in persons.get(normalise_address(address), []) if p.id not in users]
                if held:
                    chosen[uid] = (held[0], held[0].company_id)
                    break
        if uid in chosen and not read.message_id.startswith("sha256:"):
            in_batch[read.message_id] = chosen[uid]
    if not chosen:
        return 0
    fetched = client.fetch(sorted(chosen), [f"BODY.PEEK[]<0.{MAX_FETCH}>"])
    count = 0
    for uid, (person, company_id) in chosen.items():
        raw = _payload(fetched.get(uid, {}))
        if not raw:
            continue
        company = db.get(Company, company_id) if company_id else None
        archive.archive(db, user, raw, person=person, company=company, visible_to_all=user.archive_visible_to_all,
                        automatic=True, commit=False)
        count += 1
    log.info("account %s: %s archived automatically from %s", user.account.id if user.account else "?", count,
             folder.name)
    return count


def _header_bytes(message) -> bytes:
    return message.as_bytes() if message is not None else b""
