"""Import and export of persons: vCard 3.0 and 4.0 (vobject) and CSV (the dialect sniffed; the columns of
Outlook's and Google Contacts' exports, in English and Swedish, and plain names such as "email").

An import creates or updates persons by email address, so importing a file twice changes nothing; a
card or row that cannot be used is skipped with its line and the reason. Photos, logos and sounds are
never read, let alone fetched. A CSV export neutralises every cell a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import vobject
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload, selectinload
from vobject.icalendar import stringToTextValues

from mailcore.addresses import normalise_address
from mailcore.crm.people import persons_for
from mailcore.models import Company, Person, PersonEmail, User, name_key, split_name

FORMATS = ("vcf", "csv")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LOOKUP_CHUNK = 2000  # addresses per lookup query: well within SQLite's and PostgreSQL's parameter limits
ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+")


@dataclass
class Entry:
    """One card or row as read: where it is, and what it says."""

    source: str
    line: int
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    phone: str = ""
    company: str = ""
    emails: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def describe(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return f"{name} <{self.emails[0]}>" if name else f"<{self.emails[0]}>"


@dataclass
class Skipped:
    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.source}:{self.line}: {self.reason}"


@dataclass
class Report:
    created: list[Entry] = field(default_factory=list)
    updated: list[Entry] = field(default_factory=list)
    unchanged: list[Entry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        for verb, entries in (("created", self.created), ("updated", self.updated)):
            for entry in entries:
                yield f"{verb} {entry.describe()} ({entry.where})"
        yield from (str(item) for item in self.skipped)
        yield (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
               f"{len(self.skipped)} skipped")


# --- reading files ------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with one (Outlook's "Unicode" CSV), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_entries(source: str, text: str) -> tuple[list[Entry], list[Skipped]]:
    """The cards of a vCard file or the rows of a CSV file (told apart by their first line)."""
    if text.lstrip()[:11].upper() == "BEGIN:VCARD":
        return read_vcards(source, text)
    return read_csv(source, text)


def _check(entry: Entry, skipped: list[Skipped]) -> Entry | None:
    """The entry when it can be imported; otherwise None, and why in `skipped`."""
    emails: list[str] = []
    for address in entry.emails:
        address = address.strip().removeprefix("mailto:").strip()
        if not address:
            continue
        if not ADDRESS.fullmatch(address):
            skipped.append(Skipped(entry.source, entry.line, f"not an email address: {address!r}"))
            return None
        if normalise_address(address) not in {normalise_address(known) for known in emails}:
            emails.append(address)
    if not emails:
        skipped.append(Skipped(entry.source, entry.line, "no email address"))
        return None
    entry.emails = emails
    return entry


# vCard ------------------------------------------------------------------------------------------

NEVER_READ = ("PHOTO", "LOGO", "SOUND", "KEY")  # pictures and keys: large, and a URL there is never fetched


def _cards(text: str) -> Iterator[tuple[int, list[tuple[int, str]] | None]]:
    """(first line, the card's lines with their numbers) for every BEGIN:VCARD ... END:VCARD, less the
    properties never read; (line, None) for stray text and for a card that does not end."""
    start, body, skipping, stray = 0, [], False, False
    for number, line in enumerate(text.splitlines(), start=1):
        head = line.strip().upper()
        if not start:
            if head == "BEGIN:VCARD":
                start, body, skipping, stray = number, [(number, line)], False, False
            elif head and not stray:
                stray = True
                yield number, None
            continue
        if head == "BEGIN:VCARD":  # the previous card never ended
            yield start, None
            start, body, skipping = number, [(number, line)], False
            continue
        if line[:1] not in (" ", "\t"):  # not a folded line, which continues the property before it
            skipping = re.split(r"[;:]", line, maxsplit=1)[0].rpartition(".")[2].strip().upper() in NEVER_READ
        if not skipping:
            body.append((number, line))
        if head == "END:VCARD":
            yield start, body
            start = 0
    if start:
        yield start, None


@dataclass
class _Card:
    """What this import reads of a vCard, values decoded; TEL and EMAIL as (parameters, value)."""

    name: list  # N: family, given, additional (each a string or a list of strings)
    fn: str
    title: str
    org: str
    tels: list[tuple[dict[str, list[str]], str]]
    emails: list[tuple[dict[str, list[str]], str]]


def _joined(part) -> str:
    return " ".join(part) if isinstance(part, list) else str(part or "")


def _first(values: list) -> str:
    return next((_joined(value) for value in values if value), "").strip()


def _full_reading(body: list[tuple[int, str]]) -> _Card:
    """The card read by vobject in full (vobject.readOne): the way for every encoding and charset."""
    try:
        card = vobject.readOne("\r\n".join(text for _, text in body) + "\r\n", allowQP=True)
    except vobject.base.ParseError as error:  # its line within the card: the file's instead
        at = error.lineNumber
        error.lineNumber = body[at - 1][0] if isinstance(at, int) and 0 < at <= len(body) else body[0][0]
        raise

    def value(name: str) -> str:
        item = getattr(card, name, None)
        return _first(item.value if isinstance(item.value, list) else [item.value]) if item is not None else ""

    def lines(name: str) -> list[tuple[dict[str, list[str]], str]]:
        return [({key.upper(): list(values) for key, values in item.params.items()}, str(item.value))
                for item in card.contents.get(name, [])]

    n = getattr(card, "n", None)
    name = [n.value.family, n.value.given, n.value.additional] if n is not None and hasattr(n.value, "family") \
        else []
    return _Card(name, value("fn"), value("title"), value("org"), lines("tel"), lines("email"))


def _quick_reading(body: list[tuple[int, str]]) -> _Card | None:
    """The same with vobject's line parser and value decoding alone, several times faster; None for a card
    with an encoding or a charset (vCard 2.1, base64), which _full_reading reads."""
    logical: list[tuple[int, str]] = []
    for number, text in body:
        if text[:1] in (" ", "\t") and logical:
            logical[-1] = (logical[-1][0], logical[-1][1] + text[1:])
        else:
            logical.append((number, text))
    read: dict[str, list[tuple[dict[str, list[str]], str]]] = {}
    for number, text in logical:
        name, parameters, value, _group = vobject.base.parseLine(text, number)
        params = {item[0].upper(): item[1:] for item in parameters if len(item) > 1}
        singles = {item[0].upper() for item in parameters if len(item) == 1}
        if "ENCODING" in params or "CHARSET" in params or singles & {"QUOTED-PRINTABLE", "BASE64", "B"}:
            return None
        read.setdefault(name.upper(), []).append((params, value))

    def decoded(value: str) -> str:  # as vobject's VCardTextBehavior decodes a text value
        values = stringToTextValues(value)
        return values[0] if values else ""

    def first(name: str, split: bool = False) -> str:
        found = read.get(name)
        if not found:
            return ""
        return _first(vobject.vcard.splitFields(found[0][1])) if split else decoded(found[0][1]).strip()

    n = read.get("N")
    return _Card((vobject.vcard.splitFields(n[0][1]) + ["", ""])[:3] if n else [], first("FN"), first("TITLE"),
                 first("ORG", split=True), [(params, decoded(value)) for params, value in read.get("TEL", [])],
                 [(params, decoded(value)) for params, value in read.get("EMAIL", [])])


def _preferred(lines: list[tuple[dict[str, list[str]], str]]) -> list[str]:
    """The values, those with PREF (vCard 4.0's PREF=1, or 3.0's TYPE=pref) first, each kind in file order."""
    def rank(line: tuple[dict[str, list[str]], str]) -> int:
        params = {key: [str(value).lower() for value in values] for key, values in line[0].items()}
        pref = params.get("PREF", [])
        if pref:
            return int(pref[0]) if pref[0].isdigit() else 1
        return 1 if "pref" in params.get("TYPE", []) else 101
    return [value for _, value in sorted(lines, key=rank)]


def read_vcards(source: str, text: str) -> tuple[list[Entry], list[Skipped]]:
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for line, body in _cards(text):
        if body is None:
            skipped.append(Skipped(source, line, "not a vCard (BEGIN:VCARD ... END:VCARD)"))
            continue
        try:
            card = _quick_reading(body) or _full_reading(body)
        except vobject.base.ParseError as error:
            at = error.lineNumber
            skipped.append(Skipped(source, at if isinstance(at, int) and at >= line else line,
                                   f"unreadable vCard: {error.msg}"))
            continue
        except Exception as error:  # vobject's full reading, on odd values
            skipped.append(Skipped(source, line, f"unreadable vCard: {error or type(error).__name__}"))
            continue
        entry = Entry(source, line, title=card.title, company=card.org)
        if card.name:
            entry.last_name = _joined(card.name[0]).strip()
            entry.first_name = " ".join(_joined(part).strip() for part in card.name[1:3] if _joined(part).strip())
        if not (entry.first_name or entry.last_name):
            entry.first_name, entry.last_name = split_name(card.fn)
        entry.emails = _preferred(card.emails)
        phones = _preferred(card.tels)
        entry.phone = phones[0].removeprefix("tel:").strip() if phones else ""
        checked = _check(entry, skipped)
        if checked is not None:
            entries.append(checked)
    return entries, skipped


# CSV --------------------------------------------------------------------------------------------

# Column names, compared case-folded with single spaces: Outlook (English, Swedish), Google Contacts
# (English, Swedish, the old and the new export) and plain ones.
COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "given name", "förnamn", "tilltalsnamn"),
    "middle_name": ("middle name", "additional name", "mellannamn"),
    "last_name": ("last name", "family name", "surname", "efternamn"),
    "name": ("name", "full name", "display name", "namn", "fullständigt namn", "visningsnamn"),
    "job_title": ("job title", "organization title", "organization 1 - title", "befattning", "yrkestitel",
                  "organisationstitel", "organisation 1 - titel", "jobbtitel"),
    "title": ("title", "titel"),  # Outlook's is Mr./Ms.: read only when there is no job title column
    "company": ("company", "organization", "organization name", "organization 1 - name", "företag",
                "organisation", "organisationsnamn", "organisation 1 - namn"),
}
EMAIL_COLUMN = re.compile(r"(e-?mail|e-?post)( ?\d+)?( ?- ?(value|värde)|,? ?(address|adress))?|e-?postadress"
                          r"|e-?mail address|primary email|email address")
PHONE_COLUMN = re.compile(r"(business|mobile|home|primary|company main|other|car|assistant's|radio) phone( \d+)?"
                          r"|phone( \d+)?( - value)?|telephone|mobile|tel|telefon( \d+)?( - värde)?"
                          r"|telefon,? ?\(?(arbete|bostad|företag|annan)\)?( \d+)?|mobiltelefon|mobil|primär telefon")
PHONE_ORDER = ("business", "telefon, arbete", "telefon (arbete)", "mobile", "mobil", "phone", "telefon")


def _key(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").strip().casefold().split())


@dataclass
class _Columns:
    fields: dict[str, list[int]]
    emails: list[int]
    phones: list[int]


def _columns(header: list[str]) -> _Columns:
    keys = [_key(name) for name in header]
    fields = {name: [i for i, key in enumerate(keys) if key in names] for name, names in COLUMNS.items()}
    if fields["job_title"]:
        fields["title"] = []
    emails = [i for i, key in enumerate(keys) if EMAIL_COLUMN.fullmatch(key)]
    phones = [i for i, key in enumerate(keys) if PHONE_COLUMN.fullmatch(key)]
    # the work number before the mobile before any other, each kind in column order
    phones.sort(key=lambda i: next((n for n, start in enumerate(PHONE_ORDER) if keys[i].startswith(start)),
                                   len(PHONE_ORDER)))
    return _Columns(fields, emails, phones)


def unneutralise(cell: str) -> str:
    """A cell as exported by `neutralise`: its value again."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS else cell


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_csv(source: str, text: str) -> tuple[list[Entry], list[Skipped]]:
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [], [Skipped(source, 1, f"unreadable CSV header: {error}")]
    if not header:
        return [], [Skipped(source, 1, "empty file")]
    columns = _columns(header)
    if not columns.emails:
        return [], [Skipped(source, 1, "no email column in the header (such as \"E-mail Address\" or \"E-post\")")]
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            skipped.append(Skipped(source, line, f"unreadable CSV row: {error}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        cells = [unneutralise(cell.strip()) for cell in row]

        def first(indexes: list[int], cells: list[str] = cells) -> str:
            return next((cells[i] for i in indexes if i < len(cells) and cells[i]), "")

        entry = Entry(source, line, first_name=first(columns.fields["first_name"]),
                      last_name=first(columns.fields["last_name"]),
                      title=first(columns.fields["job_title"]) or first(columns.fields["title"]),
                      company=first(columns.fields["company"]), phone=first(columns.phones))
        middle = first(columns.fields["middle_name"])
        if middle:
            entry.first_name = f"{entry.first_name} {middle}".strip()
        if not (entry.first_name or entry.last_name):
            entry.first_name, entry.last_name = split_name(first(columns.fields["name"]))
        entry.emails = [address for i in columns.emails if i < len(cells)
                        for address in re.split(r"\s*(?::::|;|,)\s*", cells[i]) if address]
        checked = _check(entry, skipped)
        if checked is not None:
            entries.append(checked)
    return entries, skipped


# --- importing ----------------------------------------------------------------------------------


def import_files(db: Session, paths: Iterable[str | Path]) -> Report:
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for path in paths:
        path = Path(path)
        try:
            text = decode(path.read_bytes())
        except OSError as error:
            skipped.append(Skipped(str(path), 0, f"cannot be read: {error.strerror or error}"))
            continue
        found, bad = read_entries(str(path), text)
        entries += found
        skipped += bad
    report = import_entries(db, entries)
    report.skipped[:0] = skipped
    return report


def import_entries(db: Session, entries: list[Entry]) -> Report:
    """Create or update a person for every entry, found by any of its addresses; one commit.

    Persons found are changed through the ORM; new persons, their addresses and new companies are
    inserted in bulk (a few statements for thousands of cards)."""
    report = Report()
    keys = sorted({normalise_address(address) for entry in entries for address in entry.emails})
    index: dict[str, list[Person | Entry]] = {}  # an Entry stands for a person this import creates
    for start in range(0, len(keys), LOOKUP_CHUNK):
        index.update(persons_for(db, keys[start:start + LOOKUP_CHUNK]))
    found = sorted({person.id for persons in index.values() for person in persons})
    stored: dict[int, list[str]] = {}  # the normalised addresses of the persons found, in order
    users_cards: set[int | None] = set()
    for start in range(0, len(found), LOOKUP_CHUNK):
        chunk = found[start:start + LOOKUP_CHUNK]
        for person_id, key in db.execute(select(PersonEmail.person_id, PersonEmail.normalised)
                                         .where(PersonEmail.person_id.in_(chunk)).order_by(PersonEmail.position)):
            stored.setdefault(person_id, []).append(key)
        users_cards.update(db.scalars(select(User.person_id).where(User.person_id.in_(chunk))))
    companies: dict[str, int] = {key: company_id for key, company_id in
                                 db.execute(select(Company.name_key, Company.id).order_by(Company.id.desc()))}
    created: list[Entry] = []
    added: list[dict] = []  # addresses added to persons found
    changed_company: dict[int, str] = {}  # person id: the name key of its new company, maybe new too

    for entry in entries:
        entry_keys = [normalise_address(address) for address in entry.emails]
        persons = list({id(p): p for key in entry_keys for p in index.get(key, [])}.values())
        if len(persons) > 1:
            ids = ", ".join(str(p.id) for p in persons if isinstance(p, Person)) or "earlier in this import"
            report.skipped.append(Skipped(entry.source, entry.line,
                                          f"its addresses are on several persons ({ids}): merge them first"))
            continue
        target = persons[0] if persons else None
        if isinstance(target, Person) and target.id in users_cards:
            report.skipped.append(Skipped(entry.source, entry.line, "the contact card of a CRM user"))
            continue
        if target is None:
            target = Entry(entry.source, entry.line, entry.first_name, entry.last_name, entry.title, entry.phone,
                           entry.company, list(entry.emails))
            created.append(target)
            report.created.append(entry)
        elif isinstance(target, Entry):
            (report.updated if _update(target, entry, target.emails) else report.unchanged).append(entry)
        else:
            own = stored.setdefault(target.id, [])
            before = len(own)
            changed = _update(target, entry, own)
            for position, key in enumerate(own[before:], start=before):
                address = next(a for a in entry.emails if normalise_address(a) == key)
                added.append({"person_id": target.id, "position": position, "address": address, "normalised": key})
            company = name_key(entry.company) if entry.company else ""
            if company and companies.get(company, -1) != target.company_id:
                changed_company[target.id] = company
                changed = True
            (report.updated if changed else report.unchanged).append(entry)
        for key in entry_keys:
            if target not in index.setdefault(key, []):
                index[key].append(target)

    spelled = {name_key(entry.company): entry.company for entry in reversed(entries) if entry.company}
    wanted = {name_key(entry.company) for entry in created if entry.company} | set(changed_company.values())
    new_companies = [(key, spelled[key]) for key in sorted(wanted) if key not in companies]
    if new_companies:
        ids = db.scalars(insert(Company).returning(Company.id, sort_by_parameter_order=True),
                         [{"name": name, "name_key": key} for key, name in new_companies]).all()
        companies.update(zip([key for key, _ in new_companies], ids, strict=True))
    for person_id, key in changed_company.items():
        person = db.get(Person, person_id)
        person.company_id = companies[key]
        db.expire(person, ["company"])  # read again when asked for: the company may be one inserted above
    if created:
        ids = db.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), [
            {"first_name": e.first_name, "last_name": e.last_name, "title": e.title, "phone": e.phone,
             "name_key": name_key(f"{e.first_name} {e.last_name}"),
             "company_id": companies.get(name_key(e.company)) if e.company else None} for e in created]).all()
        added += [{"person_id": person_id, "position": position, "address": address,
                   "normalised": normalise_address(address)}
                  for person_id, e in zip(ids, created, strict=True) for position, address in enumerate(e.emails)]
    if added:
        db.execute(insert(PersonEmail), added)
    db.commit()
    return report


def _update(person: Person | Entry, entry: Entry, known: list[str]) -> bool:
    """What the entry says that the person lacks or has otherwise, but the company; whether anything
    changed. New addresses go to the end of `known` (normalised) and, for an Entry, to its emails."""
    changed = False
    for name in ("first_name", "last_name", "title", "phone"):
        value = getattr(entry, name)
        if value and getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    if isinstance(person, Entry) and entry.company and name_key(entry.company) != name_key(person.company):
        person.company = entry.company
        changed = True
    for address in entry.emails:
        if normalise_address(address) not in known:
            known.append(normalise_address(address))
            if isinstance(person, Entry):
                person.emails.append(address)
            changed = True
    return changed


# --- exporting ----------------------------------------------------------------------------------


def _everyone(db: Session) -> list[Person]:
    return list(db.scalars(select(Person).options(selectinload(Person.emails), joinedload(Person.company))
                           .order_by(Person.id)))


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: one it would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def export(db: Session, fmt: str, out: TextIO) -> int:
    """Every person, as vCards 3.0 or as CSV (Outlook's English column names); how many."""
    persons = _everyone(db)
    if fmt == "vcf":
        for person in persons:
            out.write(_vcard(person).serialize())
    elif fmt == "csv":
        most = max((len(person.emails) for person in persons), default=1)
        emails = ["E-mail Address"] + [f"E-mail {n} Address" for n in range(2, most + 1)]
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "Job Title", "Company", "Business Phone", *emails])
        for person in persons:
            addresses = [item.address for item in person.emails]
            row = [person.first_name, person.last_name, person.title, person.company.name if person.company else "",
                   person.phone, *addresses, *[""] * (most - len(addresses))]
            writer.writerow([neutralise(cell) for cell in row])
    else:
        raise ValueError(fmt)
    return len(persons)


def _vcard(person: Person):
    card = vobject.vCard()
    card.add("n").value = vobject.vcard.Name(family=person.last_name, given=person.first_name)
    card.add("fn").value = person.name or (person.emails[0].address if person.emails else "")
    for item in person.emails:
        line = card.add("email")
        line.value = item.address
        line.type_paramlist = ["INTERNET", "PREF"] if item.position == 0 else ["INTERNET"]
    if person.phone:
        card.add("tel").value = person.phone
    if person.title:
        card.add("title").value = person.title
    if person.company:
        card.add("org").value = [person.company.name]
    return card
