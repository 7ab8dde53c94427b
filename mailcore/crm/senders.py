"""Who wrote and who received a message, as the CRM knows them: each address with the persons it is
on, found for the whole message in one query (people.persons_for), and whether the reader should be
offered Add contact for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr

from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.crm import people
from mailcore.models import Person, User

MOST = 200  # addresses of one message looked up; a message has no more in its pane (render._addresses)


@dataclass
class Party:
    """One address of a message: as its header names it, and the persons it is on."""

    name: str
    address: str
    persons: list[Person] = field(default_factory=list)
    not_added: bool = False  # the reader chose Do not add contact for it

    @property
    def person(self) -> Person | None:
        return self.persons[0] if len(self.persons) == 1 else None

    @property
    def unknown(self) -> bool:
        """On nobody's card, and not declined: Add contact is offered."""
        return not self.persons and not self.not_added and "@" in self.address


@dataclass
class Parties:
    sender: Party | None
    to: list[Party]
    cc: list[Party]


def _party(text: str) -> Party:
    name, address = parseaddr(text)
    return Party(name=name, address=address or text)


def of_message(db: Session, reader: User, from_name: str, from_address: str, to: Sequence[str],
               cc: Sequence[str]) -> Parties:
    """The message's sender and recipients with their persons (as `reader` may see them): one query for
    the persons, one for the addresses the reader chose not to add."""
    sender = Party(name=from_name, address=from_address) if from_address else None
    found = Parties(sender, [_party(text) for text in to[:MOST]], [_party(text) for text in cc[:MOST]])
    every = ([sender] if sender else []) + found.to + found.cc
    addresses = [party.address for party in every]
    persons = people.persons_for(db, addresses, viewer=reader)
    declined = people.not_added(db, reader, [a for a in addresses if normalise_address(a) not in persons])
    for party in every:
        key = normalise_address(party.address)
        party.persons = persons.get(key, [])
        party.not_added = key in declined
    return found


def companies_of_senders(db: Session, reader: User, senders: dict[int, str]) -> dict[int, str]:
    """For a list page: {row id: the company of its sender}, for senders on exactly one person with a
    company; one query for the page, reading only the names (no person is loaded)."""
    found = people.company_names_for(db, set(senders.values()), viewer=reader)
    shown: dict[int, str] = {}
    for row, address in senders.items():
        names = found.get(normalise_address(address or ""), [])
        if len(names) == 1 and names[0] is not None:
            shown[row] = names[0]
    return shown
