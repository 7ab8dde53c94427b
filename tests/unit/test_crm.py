"""The CRM's persons and companies (mailcore/crm): address normalisation, free mail, the one-query lookup,
editing and merging, vCard and CSV import with its reasons for skipping, and the export."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from sqlalchemy import func, select

from mailcore import services
from mailcore.addresses import domain_of, normalise_address, same_address
from mailcore.crm import people, transfer
from mailcore.crm.freemail import is_freemail
from mailcore.crm_signin import remove_user
from mailcore.models import ArchivedEmail, ArchivedEmailLink, Company, Person, PersonEmail
from tests.helpers import CHEAP_HASH, statements

_numbers = itertools.count(1)


def person(db, first: str, last: str, *emails: str, company: Company | None = None) -> Person:
    return people.save_person(db, people.Card(first, last, emails=list(emails)), company=company)


# --- normalisation and free mail ----------------------------------------------------------------


@pytest.mark.parametrize("typed,normalised", [
    (" Anna.Berg@Kund.SE\t", "anna.berg@kund.se"),
    ("ＡＮＮＡ@ｋｕｎｄ.se", "anna@kund.se"),  # full-width forms (NFKC)
    ("Straße@Exempel.DE", "strasse@exempel.de"),  # case folding, not only lower()
    ("ÅSA@Företag.se", "åsa@företag.se"),
    ("e\u0301va@x.se", "\u00e9va@x.se"),  # a combining accent composed
])
def test_addresses_are_matched_normalised(typed, normalised):
    assert normalise_address(typed) == normalised
    assert same_address(typed, normalised)
    assert not same_address(typed, None)


def test_domain_of():
    assert domain_of("Anna@Kund.SE.") == "kund.se"
    assert domain_of("not an address") == ""
    assert domain_of("@kund.se") == ""


@pytest.mark.parametrize("value,free", [
    ("gmail.com", True), ("Kalle@GMAIL.com", True), ("outlook.com", True), ("hotmail.com", True),
    ("yahoo.com", True), ("icloud.com", True), ("proton.me", True), ("web.de", True),
    ("gmx.de", True), ("a@gmx.net", True), ("gmx.co.uk", True), ("live.se", True), ("live.com", True),
    ("kund.se", False), ("gmail.kund.se", False), ("mygmx.de", False), ("gmx", False), ("live", False),
    ("a@web.de.kund.se", False), ("", False),
])
def test_free_mail_domains(value, free):
    assert is_freemail(value) is free


# --- who an address belongs to --------------------------------------------------------------------


def test_fifty_addresses_are_recognised_in_one_query(app, db, domain):
    company = people.save_company(db, name="Kund AB", domains=[domain])
    everyone = [person(db, f"P{n}", "Berg", f"p{n}@{domain}", f"p{n}.private@{domain}", company=company)
                for n in range(60)]
    db.expire_all()
    asked = [f" P{n}@{domain.upper()}" for n in range(45)] + [f"nobody{n}@{domain}" for n in range(5)]
    with statements(app) as seen:
        found = people.persons_for(db, asked)
        companies = {p.company.name for persons in found.values() for p in persons}
    assert len(seen) == 1, seen
    assert companies == {"Kund AB"}
    assert len(found) == 45
    assert found[f"p7@{domain}"] == [everyone[7]]
    assert f"nobody1@{domain}" not in found


def test_an_address_on_two_persons_names_both(db, domain):
    one = person(db, "Anna", "Berg", f"info@{domain}")
    two = person(db, "Bo", "Ek", f"INFO@{domain}")
    assert people.persons_for(db, [f"info@{domain}"]) == {f"info@{domain}": [one, two]}


def test_an_unverified_address_on_a_users_card_names_the_user_to_the_user_only(db, domain):
    user = services.create_user(db, f"anna@{domain}", "password-1", "Anna Berg", password_method=CHEAP_HASH)
    services.add_contact_email(db, user, f"boss@{domain}")  # typed, not verified
    other = services.create_user(db, f"bo@{domain}", "password-1", "Bo Ek", password_method=CHEAP_HASH)
    assert people.persons_for(db, [f"anna@{domain}"], viewer=other) == {f"anna@{domain}": [user.person]}
    assert people.persons_for(db, [f"boss@{domain}"], viewer=other) == {}
    assert people.persons_for(db, [f"boss@{domain}"], viewer=user) == {f"boss@{domain}": [user.person]}


def test_companies_by_domain_never_for_free_mail(db, domain):
    acme = people.save_company(db, name="Acme", domains=[f"@{domain.upper()}", domain], web="https://acme.example")
    assert [item.domain for item in acme.domains] == [domain]
    assert people.companies_for(db, f"anna@{domain}") == [acme]
    assert people.companies_for(db, f"anna@sales.{domain}") == [acme]
    assert people.companies_for(db, "anna@gmail.com") == []
    with pytest.raises(people.FreemailDomain):
        people.save_company(db, name="Gmail users", domains=["gmx.de"])


# --- contact cards of users -----------------------------------------------------------------------


def test_a_users_card_is_a_person(db, domain):
    user = services.create_user(db, f" Anna.Berg@{domain}", "password-1", "Anna Maria Berg", password_method=CHEAP_HASH)
    assert (user.person.first_name, user.person.last_name) == ("Anna Maria", "Berg")
    services.add_contact_email(db, user, f"anna@{domain}")
    with pytest.raises(services.InvalidContactEmail):
        services.add_contact_email(db, user, f"ANNA@{domain}")
    second = user.contact_emails[1]
    services.move_contact_email(db, user, second.id, -1)
    assert [(e.address, e.position) for e in user.contact_emails] == [(f"anna@{domain}", 0), (f"Anna.Berg@{domain}", 1)]
    assert user.contact_emails[1].verified and not user.contact_emails[0].verified
    assert services.remove_contact_email(db, user, second.id)
    assert user.contact_emails[0].address == f"Anna.Berg@{domain}"
    person_id = user.person_id
    remove_user(db, user)
    assert db.get(Person, person_id) is None
    assert db.scalar(select(func.count()).select_from(PersonEmail).where(PersonEmail.person_id == person_id)) == 0


def test_only_its_user_edits_a_users_card(db, domain):
    user = services.create_user(db, f"anna@{domain}", "password-1", "Anna Berg", password_method=CHEAP_HASH)
    other = services.create_user(db, f"bo@{domain}", "password-1", "Bo Ek", password_method=CHEAP_HASH)
    card = people.Card("Anna", "Berg", title="Säljare", emails=[f"anna@{domain}"])
    with pytest.raises(people.NotAllowed):
        people.save_person(db, card, user.person, editor=other)
    people.save_person(db, card, user.person, editor=user)
    assert user.person.title == "Säljare" and user.contact_emails[0].verified  # the address kept its row
    card.emails = [f"anna.b@{domain}", f"ANNA@{domain}"]
    people.save_person(db, card, user.person, editor=user)
    assert [(e.address, e.verified) for e in user.contact_emails] == [(f"anna.b@{domain}", False),
                                                                      (f"anna@{domain}", True)]


# --- merging ----------------------------------------------------------------------------------------


def test_merging_moves_addresses_and_keeps_archive_links(db, domain):
    user = services.create_user(db, f"seller@{domain}", "password-1", "Sam Seller", password_method=CHEAP_HASH)
    keep = person(db, "Anna", "", f"anna@{domain}", f"shared@{domain}")
    gone = person(db, "Anna", "Berg", f"anna.berg@{domain}", f"Shared@{domain}")
    gone.phone = "+46 8 1"
    archived = ArchivedEmail(user_id=user.id, message_id="<m@x>", subject="Offert", recipients="", raw=b"x")
    db.add(archived)
    db.flush()
    moved, twin = gone.emails
    db.add_all([ArchivedEmailLink(archived_email_id=archived.id, contact_email_id=moved.id),
                ArchivedEmailLink(archived_email_id=archived.id, contact_email_id=twin.id)])
    db.commit()
    gone_id, moved_id = gone.id, moved.id

    people.merge_persons(db, keep, gone)
    db.expire_all()
    assert db.get(Person, gone_id) is None
    assert (keep.first_name, keep.last_name, keep.phone) == ("Anna", "Berg", "+46 8 1")
    assert [(e.address, e.position) for e in keep.emails] == [
        (f"anna@{domain}", 0), (f"shared@{domain}", 1), (f"anna.berg@{domain}", 2)]
    linked = set(db.scalars(select(ArchivedEmailLink.contact_email_id)
                            .where(ArchivedEmailLink.archived_email_id == archived.id)))
    assert linked == {moved_id, keep.emails[1].id}


def test_a_users_card_is_never_merged_away(db, domain):
    user = services.create_user(db, f"anna@{domain}", "password-1", "Anna Berg", password_method=CHEAP_HASH)
    contact = person(db, "Anna", "Berg", f"anna.private@{domain}")
    with pytest.raises(people.NotAllowed):
        people.merge_persons(db, contact, user.person)
    with pytest.raises(people.NotAllowed):
        people.merge_persons(db, user.person, contact)  # nobody else adds addresses to a user's card
    people.merge_persons(db, user.person, contact, editor=user)
    assert [e.address for e in user.contact_emails] == [f"anna@{domain}", f"anna.private@{domain}"]
    with pytest.raises(people.NotAllowed):
        people.delete_person(db, user.person)
    other = person(db, "Bo", "Ek", f"bo@{domain}")
    people.delete_person(db, other)
    assert people.persons_for(db, [f"bo@{domain}"]) == {}


# --- search -----------------------------------------------------------------------------------------


def test_search_by_name_address_or_domain(db, domain):
    acme = people.save_company(db, name="Öberg & Söner", domains=[domain])
    asa = person(db, "Åsa", "Öberg", f"asa@{domain}", company=acme)
    person(db, "Bo", "Ek", f"bo_{domain}@gmail.com")
    assert asa in people.search(db, "ÅSA", limit=100).persons
    assert asa in people.search(db, "ÖBERG", limit=100).persons
    assert acme in people.search(db, "öberg", limit=100).companies
    found = people.search(db, domain)
    assert found.persons == [asa] and found.companies == [acme]
    assert people.search(db, f"asa@{domain}").persons == [asa]
    assert [p.last_name for p in people.search(db, f"bo_{domain}").persons] == ["Ek"]
    assert people.search(db, "%").persons == []  # a wildcard is a character like any other
    assert len(people.search(db, "", limit=5).persons) == 0


# --- reading vCards and CSV ---------------------------------------------------------------------------

VCARDS = """BEGIN:VCARD
VERSION:3.0
N:Berg;Anna;Maria;;
FN:Anna Maria Berg
ORG:Kund AB;Sälj
TITLE:Säljchef
TEL;TYPE=WORK,VOICE:+46 8 123 45
EMAIL;TYPE=INTERNET:anna.berg@kund.example
EMAIL;TYPE=INTERNET,PREF:Anna@Kund.example
PHOTO;VALUE=URI:http://127.0.0.1:9/anna.jpg
END:VCARD
begin:vcard
version:4.0
fn:Bo Ek
email;pref=1:bo@gmail.com
tel;value=uri:tel:+46-70-111
photo:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a
 wAAAABJRU5ErkJggg==
end:vcard
"""


def vcards(domain: str) -> str:
    """VCARDS with addresses of the test's own."""
    return re.sub("kund.example", domain, VCARDS, flags=re.I).replace("bo@gmail.com", f"bo.{domain}@gmail.com")


def test_vcards_of_both_versions_are_read():
    entries, skipped = transfer.read_entries("people.vcf", VCARDS)
    assert skipped == []
    anna, bo = entries
    assert (anna.line, anna.first_name, anna.last_name, anna.title, anna.company, anna.phone) == (
        1, "Anna Maria", "Berg", "Säljchef", "Kund AB", "+46 8 123 45")
    assert anna.emails == ["Anna@Kund.example", "anna.berg@kund.example"]  # the preferred one first
    assert (bo.line, bo.first_name, bo.last_name, bo.phone, bo.emails) == (12, "Bo", "Ek", "+46-70-111",
                                                                          ["bo@gmail.com"])


ODD_CARDS = [
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Berg\\, jr;Anna,Lisa;Maria;Dr;\r\nFN:Anna\r\n  Berg\r\n"
    "ORG:;Sälj\\; Norr;Öst\r\nTITLE:VD, Norden\r\nitem1.EMAIL;TYPE=INTERNET:a@kund.example\r\n"
    "item2.EMAIL;TYPE=INTERNET,pref:b@kund.example\r\nitem1.X-ABLabel:_$!<Work>!$_\r\nEND:VCARD\r\n",
    "BEGIN:VCARD\nVERSION:4.0\nFN:Bo\\nEk\nEMAIL;PREF=2:c@kund.example\nEMAIL;PREF=1:d@kund.example\n"
    "TEL;VALUE=uri;TYPE=cell:tel:+46-70-1\nTEL;TYPE=work;PREF=1:08-1\nN:;;;;\nEND:VCARD\n",
    "BEGIN:VCARD\nVERSION:3.0\nFN:\nN:\nORG:\nEMAIL:e@kund.example\nEND:VCARD\n",
]


@pytest.mark.parametrize("card", ODD_CARDS)
def test_the_quick_reading_of_a_vcard_is_vobjects(card):
    body = list(enumerate(card.splitlines(), start=1))
    assert transfer._quick_reading(body) == transfer._full_reading(body)


def test_a_vcard_21_with_an_encoding_is_read_by_vobject_in_full():
    card = ("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=96berg;=C3=85sa\r\n"
            "TEL;WORK;VOICE:08-1\r\nEMAIL;PREF;INTERNET:asa@oberg.example\r\nEND:VCARD\r\n"
            "BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE;ENCODING=QUOTED-PRINTABLE:x\r\nno colon\r\nEND:VCARD\r\n")
    entries, skipped = transfer.read_vcards("old.vcf", card)
    assert [(e.first_name, e.last_name, e.phone, e.emails) for e in entries] == [
        ("Åsa", "Öberg", "08-1", ["asa@oberg.example"])]
    assert [(s.line, s.reason[:16]) for s in skipped] == [(10, "unreadable vCard")]


def test_bad_vcards_are_skipped_with_line_and_reason():
    text = """stray text
BEGIN:VCARD
VERSION:3.0
FN:No Mail
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Bad Mail
EMAIL:not-an-address
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Good
EMAIL:good@kund.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD
 /2wBDAP//////////////////////////////////////////////////////////////////
this line has no colon
EMAIL:broken@kund.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Never ends
EMAIL:never@kund.example
"""
    entries, skipped = transfer.read_vcards("bad.vcf", text)
    assert [e.emails for e in entries] == [["good@kund.example"]]
    reasons = {item.line: item.reason for item in skipped}
    assert reasons[1].startswith("not a vCard")
    assert reasons[2] == "no email address"
    assert reasons[6] == "not an email address: 'not-an-address'"
    assert reasons[20].startswith("unreadable vCard")  # the line of the fault, inside the card from line 16
    assert reasons[23].startswith("not a vCard")  # no END:VCARD
    assert str(skipped[0]) == "skipped bad.vcf:1: not a vCard (BEGIN:VCARD ... END:VCARD)"


OUTLOOK_EN = ('"First Name","Middle Name","Last Name","Title","Company","Job Title","Business Phone",'
              '"Mobile Phone","E-mail Address","E-mail Type","E-mail Display Name","E-mail 2 Address",'
              '"E-mail 3 Address","Web Page"\r\n'
              '"Anna","Maria","Berg","Ms.","Kund AB","Säljchef","","070-111","anna@kund.example","SMTP",'
              '"Anna Berg (anna@kund.example)","anna.berg@kund.example","","https://kund.example"\r\n')
OUTLOOK_SV = ("Förnamn;Mellannamn;Efternamn;Titel;Företag;Befattning;Telefon (arbete);Mobiltelefon;"
              "E-postadress;E-post 2, adress;E-post 3, adress\r\n"
              "Åsa;;Öberg;Fru;Öberg & Söner;VD;08-123;;asa@oberg.example;;\r\n")
GOOGLE_EN = ("Name,Given Name,Additional Name,Family Name,Organization 1 - Name,Organization 1 - Title,"
             "E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value\n"
             "Bo Ek,Bo,,Ek,Ek AB,Ägare,* Work,bo@ek.example ::: bo.ek@gmail.com,Mobile,+46 70 222\n")
GOOGLE_NEW = ("First Name,Middle Name,Last Name,Organization Name,Organization Title,E-mail 1 - Label,"
              "E-mail 1 - Value,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value\n"
              "Cia,,Dahl,Dahl AB,Konsult,* Work,cia@dahl.example,,Work,=1+2\n")
GOOGLE_SV = ("Förnamn,Efternamn,Organisationsnamn,Organisationstitel,E-post 1 - Etikett,E-post 1 - Värde,"
             "Telefon 1 - Värde\n"
             "Dan,Ek,Ek AB,Säljare,* Arbete,dan@ek.example,'+46 8 1\n")


@pytest.mark.parametrize("text,expected", [
    (OUTLOOK_EN, ("Anna Maria", "Berg", "Säljchef", "Kund AB", "070-111",
                  ["anna@kund.example", "anna.berg@kund.example"])),
    (OUTLOOK_SV, ("Åsa", "Öberg", "VD", "Öberg & Söner", "08-123", ["asa@oberg.example"])),
    (GOOGLE_EN, ("Bo", "Ek", "Ägare", "Ek AB", "+46 70 222", ["bo@ek.example", "bo.ek@gmail.com"])),
    (GOOGLE_NEW, ("Cia", "Dahl", "Konsult", "Dahl AB", "=1+2", ["cia@dahl.example"])),
    (GOOGLE_SV, ("Dan", "Ek", "Säljare", "Ek AB", "+46 8 1", ["dan@ek.example"])),
])
def test_csv_exports_of_outlook_and_google(text, expected):
    entries, skipped = transfer.read_entries("contacts.csv", text)
    assert skipped == []
    (entry,) = entries
    assert (entry.first_name, entry.last_name, entry.title, entry.company, entry.phone, entry.emails) == expected
    assert entry.line == 2


def test_outlooks_windows_encoding_is_read():
    assert transfer.decode(OUTLOOK_SV.encode("cp1252")) == OUTLOOK_SV
    assert transfer.decode(OUTLOOK_SV.encode("utf-16")) == OUTLOOK_SV
    assert transfer.decode(b"\xef\xbb\xbf" + OUTLOOK_SV.encode()) == OUTLOOK_SV


def test_bad_csv_rows_are_skipped_with_line_and_reason():
    text = ('email,name,notes\n'
            'ok@kund.example,Ok Person,"two\nlines"\n'
            ',No Mail,\n'
            '\n'
            'bad@,Bad Mail,\n'
            'a@kund.example;b@kund.example,Two Mails,\n')
    entries, skipped = transfer.read_csv("list.csv", text)
    assert [(e.line, e.emails) for e in entries] == [(2, ["ok@kund.example"]),
                                                     (7, ["a@kund.example", "b@kund.example"])]
    assert [(s.line, s.reason) for s in skipped] == [(4, "no email address"),
                                                     (6, "not an email address: 'bad@'")]
    _, skipped = transfer.read_csv("x.csv", "namn,telefon\nAnna,1\n")
    assert [(s.line, s.reason[:15]) for s in skipped] == [(1, "no email column")]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil\")", "+46 8 1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert transfer.neutralise(cell) == "'" + cell
    assert transfer.unneutralise(transfer.neutralise(cell)) == cell


@pytest.mark.parametrize("cell", ["Anna", "", "'quoted", "a=b", "070-111"])
def test_other_cells_are_left_alone(cell):
    assert transfer.neutralise(cell) == cell


# --- importing and exporting ------------------------------------------------------------------------


def test_import_creates_updates_and_changes_nothing_the_second_time(db, domain, tmp_path):
    vcf = tmp_path / "people.vcf"
    vcf.write_text(vcards(domain))
    csv_file = tmp_path / "more.csv"
    csv_file.write_text(f"E-mail Address,E-mail 2 Address,First Name,Last Name,Job Title\n"
                        f"ANNA@{domain},a.berg@{domain},Anna Maria,Berg,Säljchef\n"
                        f"new@{domain},,New,Person,\n", encoding="utf-8")
    first = transfer.import_files(db, [vcf])
    assert [e.emails[0] for e in first.created] == [f"Anna@{domain}", f"bo.{domain}@gmail.com"]
    second = transfer.import_files(db, [vcf, csv_file])
    assert ([e.line for e in second.unchanged], [e.line for e in second.updated], [e.line for e in second.created]) \
        == ([1, 12], [2], [3])
    anna = people.persons_for(db, [f"anna@{domain}"])[f"anna@{domain}"][0]
    assert (anna.title, anna.company.name, [e.address for e in anna.emails]) == (
        "Säljchef", "Kund AB", [f"Anna@{domain}", f"anna.berg@{domain}", f"a.berg@{domain}"])
    third = transfer.import_files(db, [vcf, csv_file])
    assert (len(third.created), len(third.updated), len(third.unchanged)) == (0, 0, 4)
    assert list(third.lines()) == ["0 created, 0 updated, 4 unchanged, 0 skipped"]


def test_import_never_changes_a_users_card_and_asks_for_a_merge(db, domain):
    services.create_user(db, f"anna@{domain}", "password-1", "Anna Berg", password_method=CHEAP_HASH)
    person(db, "Bo", "Ek", f"bo@{domain}")
    person(db, "Bo", "Ek", f"bo.ek@{domain}")
    entries, _ = transfer.read_csv("x.csv", f"email,name\nanna@{domain},Anna B\n\"bo@{domain},bo.ek@{domain}\",Bo\n")
    report = transfer.import_entries(db, entries)
    assert [s.reason for s in report.skipped][0] == "the contact card of a CRM user"
    assert "several persons" in report.skipped[1].reason and report.skipped[1].line == 3


def test_an_import_moves_a_person_to_another_company(db, domain):
    old = people.save_company(db, name="Gamla AB")
    bo = person(db, "Bo", "Ek", f"bo@{domain}", company=old)
    entries, _ = transfer.read_csv("x.csv", f"email,company\nbo@{domain},Nya {domain} AB\nbo@{domain},GAMLA ab\n")
    report = transfer.import_entries(db, entries[:1])
    assert [e.line for e in report.updated] == [2] and bo.company.name == f"Nya {domain} AB"
    assert [e.line for e in transfer.import_entries(db, entries[:1]).unchanged] == [2]
    assert [e.line for e in transfer.import_entries(db, entries[1:]).updated] == [3]
    assert bo.company is old


def test_an_export_imports_back_unchanged(db, domain):
    acme = people.save_company(db, name="=Acme", domains=[domain])
    bo = people.save_person(db, people.Card("Bo", "-Ek", title="@VD", phone="+46 8 1",
                                            emails=[f"bo@{domain}", f"b.ek@{domain}"]), company=acme)
    for fmt in transfer.FORMATS:
        out = io.StringIO()
        assert transfer.export(db, fmt, out) >= 1
        text = out.getvalue()
        if fmt == "csv":
            assert f"Bo,'-Ek,'@VD,'=Acme,'+46 8 1,bo@{domain},b.ek@{domain}" in text
        entries, skipped = transfer.read_entries(f"export.{fmt}", text)
        mine = [e for e in entries if e.emails[0] == f"bo@{domain}"]
        assert [(e.first_name, e.last_name, e.title, e.phone, e.company, e.emails) for e in mine] == [
            ("Bo", "-Ek", "@VD", "+46 8 1", "=Acme", [f"bo@{domain}", f"b.ek@{domain}"])]
        report = transfer.import_entries(db, mine)
        assert [e.emails[0] for e in report.unchanged] == [f"bo@{domain}"]
    assert db.scalar(select(func.count()).select_from(Person).where(Person.id == bo.id)) == 1


def test_the_cli_imports_and_exports(app, domain, tmp_path):
    vcf = tmp_path / "people.vcf"
    vcf.write_text(vcards(domain))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "import", str(vcf)])
    assert result.exit_code == 0, result.output
    assert f"created Anna Maria Berg <Anna@{domain}> ({vcf}:1)" in result.output
    assert runner.invoke(args=["crm", "import", str(vcf)]).output.endswith("0 created, 0 updated, 2 unchanged, "
                                                                           "0 skipped\n")
    result = runner.invoke(args=["crm", "export", "--format", "csv"])
    assert f"Anna Maria,Berg,Säljchef,Kund AB,'+46 8 123 45,Anna@{domain},anna.berg@{domain}" in result.output
    out = tmp_path / "all.vcf"
    assert runner.invoke(args=["crm", "export", "--format", "vcf", "--output", str(out)]).exit_code == 0
    assert f"EMAIL;TYPE=INTERNET,PREF:Anna@{domain}" in out.read_text()
    assert "photo" not in out.read_text().lower()
    assert runner.invoke(args=["crm", "export", "--format", "xls"]).exit_code == 2
