"""Persons and companies: who an address belongs to, keeping cards, merging, and finding them.

Persons and companies are shared by every user of the CRM. A CRM user's own card (User.person) is
a person too, with one difference: its addresses are what the user typed until verified (see
mailcore/contacts.py), so an unverified address there recognises the user to nobody but the user,
and only the user changes their own card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from mailcore.addresses import domain_of, normalise_address
from mailcore.contacts import verify_proven
from mailcore.crm.freemail import is_freemail
from mailcore.models import (
    ArchivedEmail,
    ArchivedEmailLink,
    Company,
    CompanyDomain,
    NotAddedAddress,
    Person,
    PersonEmail,
    User,
    name_key,
    split_name,
)


class NotAllowed(Exception):
    """A change to a CRM user's own card by someone else, or merging that card away."""


class FreemailDomain(ValueError):
    """A free-mail domain given as a company's: it would suggest the company for anyone's address."""


# --- who an address belongs to -----------------------------------------------------------------


def _recognisable(viewer: User | None) -> ColumnElement[bool]:
    """The addresses that may name their person: all but the unverified ones on users' own cards,
    which only their user sees."""
    on_a_users_card = exists().where(User.person_id == PersonEmail.person_id)
    allowed = or_(PersonEmail.verified_at.is_not(None), ~on_a_users_card)
    if viewer is not None and viewer.person_id is not None:
        allowed = or_(allowed, PersonEmail.person_id == viewer.person_id)
    return allowed


def persons_for(db: Session, addresses: Iterable[str], viewer: User | None = None) -> dict[str, list[Person]]:
    """The persons each address is on, in one query (an indexed IN on the normalised addresses), with
    their companies loaded: {normalised address: [Person, ...]}; addresses on nobody's card are absent.
    The caller keeps the list short (a page of messages, one message's addresses)."""
    keys = sorted({normalise_address(address) for address in addresses if address and "@" in address})
    if not keys:
        return {}
    query = (select(PersonEmail.normalised, Person)
             .join(Person, Person.id == PersonEmail.person_id)
             .where(PersonEmail.normalised.in_(keys), _recognisable(viewer))
             .options(joinedload(Person.company))
             .order_by(Person.id))
    found: dict[str, list[Person]] = {}
    for key, person in db.execute(query):
        found.setdefault(key, []).append(person)
    return found


def company_names_for(db: Session, addresses: Iterable[str], viewer: User | None = None) -> dict[str, list[str | None]]:
    """For each address, the company name (None: no company) of every person it is on, in one query of
    plain columns: what a list page shows beside its senders. Addresses on nobody's card are absent."""
    keys = sorted({normalise_address(address) for address in addresses if address and "@" in address})
    if not keys:
        return {}
    query = (select(PersonEmail.normalised, Company.name)
             .join(Person, Person.id == PersonEmail.person_id)
             .outerjoin(Company, Company.id == Person.company_id)
             .where(PersonEmail.normalised.in_(keys), _recognisable(viewer)))
    found: dict[str, list[str | None]] = {}
    for key, name in db.execute(query):
        found.setdefault(key, []).append(name)
    return found


def visible_emails(db: Session, person: Person, viewer: User | None) -> list[PersonEmail]:
    """The addresses of a person that `viewer` may see: on a user's own card, the unverified ones only
    to that user."""
    owner = card_owner(db, person)
    if owner is None or (viewer is not None and viewer.id == owner.id):
        return list(person.emails)
    return [item for item in person.emails if item.verified]


def first_addresses(db: Session, persons: Sequence[Person], viewer: User | None) -> dict[int, str]:
    """The first address of each person that `viewer` may see (as visible_emails), in one query."""
    ids = [person.id for person in persons]
    rows = db.execute(select(User.person_id, User.id).where(User.person_id.in_(ids))) if ids else []
    owners = {row.person_id: row.id for row in rows}
    shown: dict[int, str] = {}
    for person in persons:
        owner = owners.get(person.id)
        mine = owner is None or (viewer is not None and viewer.id == owner)
        first = next((item for item in person.emails if mine or item.verified), None)
        if first is not None:
            shown[person.id] = first.address
    return shown


def card_owner(db: Session, person: Person) -> User | None:
    """The CRM user whose own card this person is, if any."""
    if person.id is None:
        return None
    return db.scalar(select(User).where(User.person_id == person.id))


def not_added(db: Session, user: User, addresses: Iterable[str]) -> set[str]:
    """Which of these addresses (normalised) the user chose not to add to the CRM."""
    keys = {normalise_address(address) for address in addresses if address}
    if not keys:
        return set()
    return set(db.scalars(select(NotAddedAddress.normalised)
                          .where(NotAddedAddress.user_id == user.id, NotAddedAddress.normalised.in_(keys))))


def do_not_add(db: Session, user: User, address: str) -> None:
    """The user's Do not add contact: the address is not offered for adding to this user again."""
    key = normalise_address(address)
    if key and key not in not_added(db, user, [key]):
        db.add(NotAddedAddress(user_id=user.id, normalised=key))
        db.commit()


# --- companies ----------------------------------------------------------------------------------


def _parent_domains(domain: str) -> list[str]:
    """sales.acme.se, acme.se: the domain and those above it, down to two labels."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def companies_for(db: Session, address: str) -> list[Company]:
    """The companies an address's domain (or a domain above it) belongs to; none for free mail."""
    domain = domain_of(address)
    if not domain or is_freemail(domain):
        return []
    query = (select(Company).join(CompanyDomain).where(CompanyDomain.domain.in_(_parent_domains(domain)))
             .distinct().order_by(Company.name_key, Company.id))
    return list(db.scalars(query))


def save_company(db: Session, company: Company | None = None, *, name: str, domains: Sequence[str] = (),
                 phone: str = "", web: str = "") -> Company:
    """A new company, or new values for one; its domains become exactly `domains` (never free mail)."""
    wanted: list[str] = []
    for domain in domains:
        key = normalise_address(domain).strip(".").removeprefix("@")
        if is_freemail(key):
            raise FreemailDomain(key)
        if key and key not in wanted:
            wanted.append(key)
    if company is None:
        company = Company(name=name)
        db.add(company)
    company.name, company.phone, company.web = name.strip(), phone.strip(), web.strip()
    company.domains[:] = ([item for item in company.domains if item.domain in wanted]
                          + [CompanyDomain(domain=key) for key in wanted
                             if key not in {item.domain for item in company.domains}])
    db.commit()
    return company


def persons_at(db: Session, company: Company) -> list[Person]:
    """The persons of a company, by name."""
    return list(db.scalars(select(Person).where(Person.company_id == company.id)
                           .options(selectinload(Person.emails)).order_by(Person.name_key, Person.id)))


def company_named(db: Session, name: str) -> Company | None:
    """The company of this name (compared as names are searched), the oldest when several have it."""
    key = name_key(name)
    if not key:
        return None
    return db.scalar(select(Company).where(Company.name_key == key).order_by(Company.id).limit(1))


def archived_visible_to(viewer: User) -> ColumnElement[bool]:
    """The archived emails `viewer` may see: visible to all users, or archived by the viewer. Every
    query that reads archived emails for a user is scoped by it (also as archive.visible_to)."""
    return or_(ArchivedEmail.visible_to_all.is_(True), ArchivedEmail.user_id == viewer.id)


def archived_with(db: Session, viewer: User, *, person: Person | None = None, company: Company | None = None,
                  limit: int = 50) -> list[ArchivedEmail]:
    """The emails archived to a person (or to a company, or to any of its persons), newest first, that
    `viewer` may see (visible to all users, or archived by the viewer): what their card lists under
    Archived emails, with who archived each. Send and archive also links its recipients' addresses."""
    linked = (select(ArchivedEmailLink.archived_email_id)
              .join(PersonEmail, PersonEmail.id == ArchivedEmailLink.contact_email_id))
    if person is not None:
        linked = linked.where(PersonEmail.person_id == person.id)
        chosen = ArchivedEmail.person_id == person.id
    else:
        staff = select(Person.id).where(Person.company_id == company.id)
        linked = linked.where(PersonEmail.person_id.in_(staff))
        chosen = or_(ArchivedEmail.company_id == company.id, ArchivedEmail.person_id.in_(staff))
    return list(db.scalars(select(ArchivedEmail)
                           .where(archived_visible_to(viewer), or_(chosen, ArchivedEmail.id.in_(linked)))
                           .options(joinedload(ArchivedEmail.user))
                           .order_by(ArchivedEmail.sent_at.desc(), ArchivedEmail.id.desc()).limit(limit)))


# --- persons ------------------------------------------------------------------------------------


@dataclass
class Card:
    """What a person's card says; addresses first first."""

    first_name: str = ""
    last_name: str = ""
    title: str = ""
    phone: str = ""
    emails: list[str] = field(default_factory=list)


def _check_editor(db: Session, person: Person, editor: User | None) -> User | None:
    """The user whose own card the person is, when `editor` is that user; NotAllowed for anyone else."""
    owner = card_owner(db, person)
    if owner is not None and (editor is None or editor.id != owner.id):
        raise NotAllowed(person.id)
    return owner


def set_emails(person: Person, addresses: Iterable[str]) -> None:
    """The card's addresses become these, in this order; an address kept (compared normalised) keeps its
    row: its id, verification and archive links."""
    current = {item.normalised: item for item in person.emails}
    items: list[PersonEmail] = []
    for address in addresses:
        key = normalise_address(address)
        if not key or key in {item.normalised for item in items}:
            continue
        items.append(current.get(key) or PersonEmail(address=address.strip()))
    person.emails[:] = items
    for position, item in enumerate(items):
        item.position = position


def save_person(db: Session, card: Card, person: Person | None = None, *, company: Company | None = None,
                editor: User | None = None) -> Person:
    """A new person from a card, or an existing one changed to it. A CRM user's own card is changed
    only by that user (`editor`); an address added there starts unverified, unless the user has
    already proven it (mailcore/contacts.py)."""
    owner = None
    if person is None:
        person = Person()
        db.add(person)
    else:
        owner = _check_editor(db, person, editor)
    person.first_name, person.last_name = card.first_name.strip(), card.last_name.strip()
    person.title, person.phone = card.title.strip(), card.phone.strip()
    person.company = company
    set_emails(person, card.emails)
    if owner is not None:
        verify_proven(owner)
    db.commit()
    return person


def add_address(db: Session, person: Person, address: str, editor: User | None = None) -> Person:
    """An address added last to a person's card (nothing changes when it is there already)."""
    _check_editor(db, person, editor)
    set_emails(person, [item.address for item in person.emails] + [address])
    db.commit()
    return person


def create_contact(db: Session, address: str, *, first_name: str, last_name: str, title: str = "",
                   company: Company | None = None, new_company: str = "") -> Person:
    """A person with this address, at `company`, or at a company created by the name `new_company` with
    the address's domain (unless it is free mail); a company of that very name is used instead of a
    second one."""
    if company is None and new_company.strip():
        domain = domain_of(address)
        company = company_named(db, new_company) or save_company(
            db, name=new_company, domains=[domain] if domain and not is_freemail(domain) else [])
    return save_person(db, Card(first_name=first_name, last_name=last_name, title=title, emails=[address]),
                       company=company)


def guess_card(display_name: str, address: str) -> tuple[str, str, str]:
    """First name, last name and company name for a new contact, from a From header's name and its
    address's domain ("Anna Berg <anna@kund.se>": Anna, Berg, Kund); no company for free mail."""
    first, last = split_name(display_name.strip().strip('"\'')) if "@" not in display_name else ("", "")
    if not first and not last:
        local = address.partition("@")[0]
        words = [word.capitalize() for word in local.replace("_", ".").replace("-", ".").split(".") if word]
        first, last = split_name(" ".join(words))
    domain = domain_of(address)
    labels = domain.split(".") if domain and not is_freemail(domain) else []
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "ac", "org", "net", "gov"):
        labels = labels[:-1]  # acme.co.uk is Acme
    company = labels[-2].capitalize() if len(labels) >= 2 else ""
    return first, last, company


def merge_persons(db: Session, keep: Person, gone: Person, editor: User | None = None) -> Person:
    """One person where there were two: `gone`'s addresses move to `keep` (after its own, with their ids,
    so archived emails stay linked), what `keep` lacks is taken from `gone`, and `gone` is deleted. An
    address both have stays `keep`'s, and the archived emails linked to `gone`'s copy are linked to it.
    A user's own card is never merged away, and only its user merges another person into it."""
    if keep.id == gone.id:
        return keep
    if card_owner(db, gone) is not None:
        raise NotAllowed(gone.id)
    _check_editor(db, keep, editor)
    for name in ("first_name", "last_name", "title", "phone"):
        if not getattr(keep, name):
            setattr(keep, name, getattr(gone, name))
    keep.company = keep.company or gone.company
    kept = {item.normalised: item for item in keep.emails}
    for item in list(gone.emails):
        twin = kept.get(item.normalised)
        if twin is None:
            item.position = len(keep.emails)
            item.person = keep  # moves it out of gone.emails
            continue
        already = select(ArchivedEmailLink.archived_email_id).where(ArchivedEmailLink.contact_email_id == twin.id)
        db.execute(update(ArchivedEmailLink)
                   .where(ArchivedEmailLink.contact_email_id == item.id,
                          ArchivedEmailLink.archived_email_id.not_in(already))
                   .values(contact_email_id=twin.id))
        db.execute(delete(ArchivedEmailLink).where(ArchivedEmailLink.contact_email_id == item.id))
        gone.emails.remove(item)
    db.flush()
    db.delete(gone)
    db.commit()
    return keep


def delete_person(db: Session, person: Person) -> None:
    """A person gone with their addresses; the archived emails they were linked to stay. A CRM user's
    own card goes only with the user."""
    if card_owner(db, person) is not None:
        raise NotAllowed(person.id)
    db.delete(person)
    db.commit()


# --- finding them -------------------------------------------------------------------------------


@dataclass
class Found:
    persons: list[Person]
    companies: list[Company]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(db: Session, text: str, limit: int = 20, viewer: User | None = None) -> Found:
    """Persons and companies whose name (any word's start), address or domain starts with `text`, at most
    `limit` of each, by name. A person is also found by an address at a matching domain."""
    term = name_key(text)
    if not term:
        return Found([], [])
    start, word = _like(term) + "%", "% " + _like(term) + "%"
    domain = "%@" + _like(term.lstrip("@")) + "%"
    by_address = (select(PersonEmail.person_id)
                  .where(or_(PersonEmail.normalised.like(start, escape="\\"),
                             PersonEmail.normalised.like(domain, escape="\\")), _recognisable(viewer)))
    persons = (select(Person)
               .where(or_(Person.name_key.like(start, escape="\\"), Person.name_key.like(word, escape="\\"),
                          Person.id.in_(by_address)))
               .options(selectinload(Person.emails), joinedload(Person.company))
               .order_by(Person.name_key, Person.id).limit(limit))
    by_domain = select(CompanyDomain.company_id).where(CompanyDomain.domain.like(_like(term.lstrip("@")) + "%",
                                                                                 escape="\\"))
    companies = (select(Company)
                 .where(or_(Company.name_key.like(start, escape="\\"), Company.name_key.like(word, escape="\\"),
                            Company.id.in_(by_domain)))
                 .order_by(Company.name_key, Company.id).limit(limit))
    return Found(list(db.scalars(persons)), list(db.scalars(companies)))
