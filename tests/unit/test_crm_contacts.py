"""What the web's Contacts and Add contact rest on (mailcore/crm): a new contact's name and company
guessed from a From header, creating a contact with its company, Do not add contact, the addresses a
colleague may see, and a message's parties recognised in one query."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from mailcore import services
from mailcore.crm import people, senders
from mailcore.models import User
from tests.helpers import CHEAP_HASH, statements

_numbers = itertools.count(1)


def user(db, name: str = "Eva Lind") -> User:
    address = f"user{next(_numbers)}@crm.example"
    services.create_user(db, address, "crm-password-1", name, "sv", password_method=CHEAP_HASH)
    return db.scalar(select(User).where(User.email == address))


@pytest.mark.parametrize("header,address,expected", [
    ("Anna Berg", "anna@kund.se", ("Anna", "Berg", "Kund")),
    ("Anna Maria Berg", "anna@sales.kund.se", ("Anna Maria", "Berg", "Kund")),
    ('"Berg Anna"', "x@acme.co.uk", ("Berg", "Anna", "Acme")),
    ("", "per.olsson@gmail.com", ("Per", "Olsson", "")),
    ("per@example.se", "per_olsson@hotmail.com", ("Per", "Olsson", "")),
    ("Åsa", "asa@örebro-bygg.se", ("Åsa", "", "Örebro-bygg")),
])
def test_a_new_contacts_name_and_company_are_guessed_from_the_header(header, address, expected):
    assert people.guess_card(header, address) == expected


def test_create_contact_makes_the_company_with_the_domain_once(db, domain):
    anna = people.create_contact(db, f"anna@{domain}", first_name="Anna", last_name="Berg",
                                 new_company=f"Bolag {domain}")
    assert [item.domain for item in anna.company.domains] == [domain]
    bo = people.create_contact(db, f"bo@{domain}", first_name="Bo", last_name="Ek", new_company=f"bolag {domain}")
    assert bo.company.id == anna.company.id  # the same name: no second company
    free = people.create_contact(db, f"olle{domain}@gmail.com", first_name="Olle", last_name="",
                                 new_company=f"Fri {domain}")
    assert free.company.domains == []
    alone = people.create_contact(db, f"ensam@{domain}", first_name="Ensam", last_name="")
    assert alone.company is None and [item.address for item in alone.emails] == [f"ensam@{domain}"]


def test_do_not_add_is_per_user_and_matched_normalised(db, domain):
    eva, bo = user(db), user(db, "Bo Ek")
    people.do_not_add(db, eva, f" Spam@{domain.upper()} ")
    people.do_not_add(db, eva, f"spam@{domain}")  # twice is once
    assert people.not_added(db, eva, [f"SPAM@{domain}", f"other@{domain}"]) == {f"spam@{domain}"}
    assert people.not_added(db, bo, [f"spam@{domain}"]) == set()


def test_colleagues_see_only_the_verified_addresses_of_a_users_card(db, domain):
    eva, bo = user(db), user(db, "Bo Ek")
    services.add_contact_email(db, bo, f"bo@{domain}")
    shown = [item.address for item in people.visible_emails(db, bo.person, eva)]
    assert bo.email in shown and f"bo@{domain}" not in shown
    assert f"bo@{domain}" in [item.address for item in people.visible_emails(db, bo.person, bo)]
    assert people.first_addresses(db, [bo.person], eva) == {bo.person.id: bo.email}


def test_a_messages_parties_are_recognised_in_one_query(app, db, domain):
    eva = user(db)
    people.create_contact(db, f"anna@{domain}", first_name="Anna", last_name="Berg", new_company="Kund")
    people.do_not_add(db, eva, f"nej@{domain}")
    with statements(app) as seen:
        found = senders.of_message(db, eva, "Anna", f"anna@{domain}",
                                   [f"{eva.name} <{eva.email}>", f"Ny <ny@{domain}>"], [f"nej@{domain}"])
    assert sum("FROM contact_emails JOIN persons" in statement for statement in seen) == 1
    assert found.sender.person.name == "Anna Berg" and not found.sender.unknown
    assert found.to[0].person.id == eva.person_id
    assert found.to[1].unknown and (found.to[1].name, found.to[1].address) == ("Ny", f"ny@{domain}")
    assert found.cc[0].not_added and not found.cc[0].unknown
