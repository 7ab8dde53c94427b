"""What the test modules share besides fixtures (those are in conftest.py): the lab's names, a client
that behaves like a browser with htmx, and the small steps and readings the tests repeat (connect an
account, sync it, read the database and the server)."""

from __future__ import annotations

import email
import email.policy
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import event, select

from localmail import MailLab
from localmail.waits import eventually
from mailcore import services
from mailcore.models import Account, Folder, Message, OAuthGrant, User, utcnow
from mailcore.settings import AccountSettings, Credentials, ServerSettings
from mailcore.sync.engine import AccountSync

MAIL_DOMAIN = "inkorg.test"
OAUTH_DOMAIN = "oauth.inkorg.test"  # signs in at the local issuer (an operator's own, MAIL_PROVIDERS_FILE)
OAUTH_CLIENT = ("inkorg-test", "inkorg-test-client-secret")
STARTTLS_DOMAIN = "starttls.inkorg.test"
POP_DOMAIN = "pop.inkorg.test"

ROOT = Path(__file__).resolve().parent.parent  # the checkout


def worker_loopback(host: int, plain: str) -> str:
    """A loopback address of this test process's own: `plain` in a plain run, 127.0.<10+N>.<host> on
    pytest-xdist's worker gwN, so that servers which must have the standard mail ports (993, 143, 465,
    587, 110) run on every worker at once. Each use takes a `host` number of its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return plain
    return f"127.0.{10 + int(worker.removeprefix('gw'))}.{host}"


@dataclass
class Mailbox:
    address: str
    password: str


def lab_ports(lab: MailLab) -> str:
    return " ".join(str(p) for p in (
        lab.imap_tls_port, lab.imap_starttls_port, lab.imap_plain_only_port, lab.pop3_port,
        lab.imap_untrusted_tls_port, lab.smtp_tls_port, lab.smtp_starttls_port,
        lab.smtp_no_starttls_port, lab.tarpit_port, lab.closed_port))


# The web client --------------------------------------------------------------------------------------

class Browser:
    """The Flask test client, sending the CSRF token and htmx headers the way the page's htmx does."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def _remember(self, response):
        if not response.content_type.startswith("text/html"):
            return response
        found = re.search(r'"X-CSRFToken": "([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def get(self, url: str, htmx: bool = False, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember(self.client.get(url, headers=headers, **kwargs))

    def post(self, url: str, data: dict | None = None, htmx: bool = True, csrf: bool = True, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            if self.token is None:
                self.get("/inbox/")
            headers["X-CSRFToken"] = self.token
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)

    def sign_in(self, email: str, password: str):
        page = self.get("/signin")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
        response = self.client.post("/signin", data={"email": email, "password": password,
                                                     "csrf_token": token.group(1)})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/inbox/")
        return response


# The tests' apps hash CRM passwords at a small cost (PASSWORD_HASH): a sign-in's scrypt at the
# default cost is 0.14 s of CPU, and the lab tests sign in about two thousand times. The default is
# what tests/test_hardening_web.py's timing test and tests/unit/test_passwords.py check.
CHEAP_HASH = "scrypt:128:8:1"


def make_user(app, email: str, name: str = "Anna Andersson", language: str | None = "en",
              password: str = "crm-password-1") -> None:
    with app.extensions["mail"].sessions() as db:
        services.create_user(db, email, password, name, language, password_method=app.config["PASSWORD_HASH"])


def connected(app, mailbox, name: str = "Anna Andersson") -> Browser:
    """A signed-in CRM user whose contact card starts with the mailbox's address, account connected."""
    make_user(app, mailbox.address, name=name)
    signed_in = Browser(app.test_client())
    signed_in.sign_in(mailbox.address, "crm-password-1")
    response = signed_in.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/inbox/", text(response)
    return signed_in


class _Words(HTMLParser):
    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.words.extend(data.split())


def text(response) -> str:
    """The response as the words a person reads."""
    parser = _Words()
    parser.feed(response.get_data(as_text=True))
    return " ".join(parser.words)


def advanced_form(lab, mailbox, **changes) -> dict:
    """The setup dialog's advanced settings for the mailbox on the lab, with `changes` (None drops a field)."""
    data = {
        "address": mailbox.address,
        "imap_host": lab.hostname, "imap_port": lab.imap_tls_port, "imap_ssl": "on",
        "imap_username": mailbox.address, "imap_password": mailbox.password,
        "smtp_same_login": "y",
        "smtp_host": lab.hostname, "smtp_port": lab.smtp_tls_port, "smtp_ssl": "on",
        "smtp_username": "", "smtp_password": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# The mail domain, without the web layer ---------------------------------------------------------------

def connect_account(app, lab, mailbox, port: int | None = None) -> int:
    """The CRM user and their account, as the setup dialog would leave them (no sync yet)."""
    mail = app.extensions["mail"]
    with mail.sessions() as db:
        user = services.create_user(db, mailbox.address, "crm-password-1", "Sync Tester",
                                    password_method=app.config["PASSWORD_HASH"])
        server = ServerSettings(lab.hostname, port or lab.imap_tls_port, True, mailbox.address)
        outgoing = ServerSettings(lab.hostname, lab.smtp_tls_port, True, mailbox.address)
        service = services.MailService(db, mail)
        result = service.connect(user, AccountSettings(mailbox.address, server, outgoing),
                                 Credentials(mailbox.password, mailbox.password))
        assert result.ok, result
        return user.account.id


def sync(app, account_id: int, folder: str | None = None):
    mail = app.extensions["mail"]
    return AccountSync(mail, batch=100, first_batch=20).run(account_id, folder)


def message(subject: str, sender: str = "Kund <kund@example.test>") -> EmailMessage:
    item = EmailMessage()
    item["From"] = sender
    item["To"] = "me@inkorg.test"
    item["Subject"] = subject
    item.set_content(f"Text of {subject}")
    return item


# Readings: the database, the IMAP server, the SMTP server ---------------------------------------------

def account_of(app, email: str) -> Account | None:
    with app.extensions["mail"].sessions() as db:
        user = db.scalar(select(User).where(User.email == email))
        return user.account


def folder_id(app, name: str) -> int:
    """The stored id of the folder `name`."""
    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Folder.id).where(Folder.name == name))


def rows(app, folder: str = "INBOX") -> dict[str, Message]:
    with app.extensions["mail"].sessions() as db:
        found = db.scalars(select(Message).join(Folder).where(Folder.name == folder))
        return {m.subject: m for m in found}


def stored(app, account_id: int, folder: str = "INBOX") -> dict[int, tuple]:
    with app.extensions["mail"].sessions() as db:
        rows = db.execute(select(Message.uid, Message.seen, Message.flagged, Message.subject).join(Folder)
                          .where(Folder.account_id == account_id, Folder.name == folder)).all()
    return {uid: (seen, flagged, subject) for uid, seen, flagged, subject in rows}


def on_server(lab, address: str, folder: str = "INBOX") -> dict[int, tuple]:
    from mailcore.envelope import decode_header

    with lab.imap(address) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, ["FLAGS", "ENVELOPE"]) if uids else {}
    return {uid: (b"\\Seen" in data[b"FLAGS"], b"\\Flagged" in data[b"FLAGS"],
                  decode_header(data[b"ENVELOPE"].subject)) for uid, data in fetched.items()}


def server_flags(lab, address: str, folder: str = "INBOX") -> dict[str, set]:
    with lab.imap(address) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        data = client.fetch(uids, ["FLAGS", "ENVELOPE"]) if uids else {}
    from mailcore.envelope import decode_header

    return {decode_header(d[b"ENVELOPE"].subject): set(d[b"FLAGS"]) for d in data.values()}


def received(lab, subject: str):
    """What the lab's SMTP server accepted with this subject."""
    return [m for m in lab.received
            if email.message_from_bytes(m.data, policy=email.policy.default)["Subject"] == subject]


def wait_until_access_tokens_expire(app, seconds: float = 15) -> None:
    """Until every OAuth access token the app holds now is past the expiry stored with it (a refresh
    in the meantime does not move this moment)."""
    with app.extensions["mail"].sessions() as db:
        moments = [m if m.tzinfo else m.replace(tzinfo=UTC)
                   for m in db.scalars(select(OAuthGrant.access_expires_at)) if m is not None]
    assert moments, "no access token is stored"
    latest = max(moments)
    assert eventually(lambda: utcnow() > latest, seconds), f"still before {latest}"


@contextmanager
def statements(app):
    """The SQL statements the app's engine runs inside the block (to count queries)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = app.extensions["mail"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- the CRM's persons and companies, straight into the app's database ------------------------------


def crm_person(app, first: str, last: str, *emails: str, company: str | None = None, domains=()) -> int:
    """A person with these addresses, at `company` (made with `domains` when there is none of that name)."""
    from mailcore.crm import people

    with app.extensions["mail"].sessions() as db:
        found = people.company_named(db, company) if company else None
        if company and found is None:
            found = people.save_company(db, name=company, domains=list(domains))
        return people.save_person(db, people.Card(first, last, emails=list(emails)), company=found).id


def crm_company_id(app, name: str) -> int:
    from mailcore.crm import people

    with app.extensions["mail"].sessions() as db:
        return people.company_named(db, name).id


def message_row(app, subject: str) -> tuple[int, int]:
    """The id and folder id of the stored message with this subject."""
    with app.extensions["mail"].sessions() as db:
        found = db.scalar(select(Message).where(Message.subject == subject))
        return found.id, found.folder_id


def schema_differences(connection) -> list:
    """What the migrated database holds that the models do not say, or the other way round; the search
    index's own tables and expression index are left out by name (mailcore/search/index.py)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mailcore.models import Base
    from mailcore.search.index import schema_filter

    return compare_metadata(MigrationContext.configure(connection, opts={"include_object": schema_filter}),
                            Base.metadata)
