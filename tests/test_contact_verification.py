"""Contact-card addresses count only once verified: for archived emails, suggestions and sending.

Sending and verification links go through the real SMTP server of the lab; accounts log in to the
real Dovecot."""

from __future__ import annotations

import email
import email.policy
import re
import time
from urllib.parse import quote, urlsplit

import pytest
from itsdangerous.encoding import base64_decode, bytes_to_int
from sqlalchemy import select

from app import create_app
from mailcore.models import ContactEmail, User

from .helpers import MAIL_DOMAIN, Browser, advanced_form, connected, eventually, make_user, text

SYSTEM_SENDER = f"system@{MAIL_DOMAIN}"
SYSTEM_PASSWORD = "system-mail-pw-7Q!"
EXTERNAL_URL = "https://crm.example"
NOT_VERIFIED_SEND = "The first email address on your contact card is not verified yet."


@pytest.fixture(scope="session")
def system_account(lab) -> str:
    lab.add_user(SYSTEM_SENDER, SYSTEM_PASSWORD)
    return (f"smtps://{quote(SYSTEM_SENDER, safe='')}:{quote(SYSTEM_PASSWORD, safe='')}"
            f"@{lab.hostname}:{lab.smtp_tls_port}")


@pytest.fixture
def linking_app(app_config, system_account):
    """The app with a sender of its own, so that it can mail verification links."""
    return create_app(dict(app_config, SYSTEM_MAIL_URL=system_account,
                           SYSTEM_MAIL_FROM=f"Inkorg <{SYSTEM_SENDER}>", EXTERNAL_URL=EXTERNAL_URL))


def signed_in(app, email_address: str, name: str = "Anna Andersson") -> Browser:
    make_user(app, email_address, name=name)
    browser = Browser(app.test_client())
    browser.sign_in(email_address, "crm-password-1")
    return browser


def card_item(app, user_email: str, address: str) -> ContactEmail:
    with app.extensions["mail"].sessions() as db:
        user = db.scalar(select(User).where(User.email == user_email))
        return next(item for item in user.contact_emails if item.address == address)


def card_addresses(browser: Browser) -> str:
    return text(browser.get("/settings/contact-card")).split("Email addresses", 1)[1]


def send(browser: Browser, to: str, subject: str, archive: bool = False):
    data = {"to": to, "subject": subject, "body": "Text som inte får försvinna"}
    if archive:
        data["archive"] = "1"
    return browser.post("/inbox/compose/", data)


# --- archived emails -----------------------------------------------------------------------------


def test_typing_someone_elses_address_shows_none_of_their_archived_email(app, lab, mailbox):
    victim = signed_in(app, "victim@crm.example", name="Vera Offer")
    mallory = signed_in(app, "mallory@crm.example", name="Mallory")
    assert mallory.post("/settings/contact-card", {"address": "victim@crm.example"}).status_code == 204
    writer = connected(app, mailbox)
    assert send(writer, "victim@crm.example", "Hemligt avtal", archive=True).status_code == 200  # Document dialog

    assert "Hemligt avtal" not in text(mallory.get("/settings/contact-card"))
    assert "Not verified" in card_addresses(mallory)
    assert "Hemligt avtal" in text(victim.get("/settings/contact-card"))  # the card of the real owner
    assert "Hemligt avtal" in text(writer.get("/settings/contact-card"))  # and of the one who archived it

    # nor does moving the typed address first change anything, or adding it afterwards
    mallory_item = card_item(app, "mallory@crm.example", "victim@crm.example")
    mallory.post(f"/settings/contact-card/{mallory_item.id}/up")
    late = signed_in(app, "late@crm.example", name="Late")
    late.post("/settings/contact-card", {"address": "victim@crm.example"})
    for other in (mallory, late):
        assert "Hemligt avtal" not in text(other.get("/settings/contact-card"))


def test_compose_suggests_verified_addresses_and_never_another_users_unverified_one(app, lab, mailbox):
    signed_in(app, "kollega@crm.example", name="Kollega")
    mallory = signed_in(app, "mallory@crm.example", name="Mallory")
    mallory.post("/settings/contact-card", {"address": "hemlig.kund@kund.example"})
    writer = connected(app, mailbox)
    writer.post("/settings/contact-card", {"address": "anna.egen@kund.example"})
    page = writer.get("/inbox/compose/", htmx=True).get_data(as_text=True)
    offered = {re.sub(r"^.*&lt;(.*)&gt;$", r"\1", value) for value in re.findall(r'<option value="([^"]+)">', page)}
    assert {"kollega@crm.example", "mallory@crm.example", mailbox.address, "anna.egen@kund.example"} <= offered
    assert "hemlig.kund@kund.example" not in offered


# --- sending -------------------------------------------------------------------------------------


def test_an_unverified_first_address_cannot_enable_send(app, lab, mailbox):
    """Settings typed by hand can name any server, so logging in with them proves no address."""
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": mailbox.address})
    anna.post(f"/settings/contact-card/{card_item(app, 'anna@crm.example', mailbox.address).id}/up")
    assert anna.post("/inbox/setup/advanced", advanced_form(lab, mailbox)).headers["HX-Push-Url"] == "/inbox/"
    lab.received.clear()

    response = send(anna, "kund@example.test", "Får inte gå iväg")
    assert response.status_code == 422
    assert NOT_VERIFIED_SEND in text(response) and "Text som inte får försvinna" in response.get_data(as_text=True)
    assert 'href="/settings/contact-card"' in response.get_data(as_text=True)
    assert lab.received == []
    inbox = text(anna.get("/inbox/"))
    assert NOT_VERIFIED_SEND in inbox and "sending is not allowed until it is verified" in inbox
    assert NOT_VERIFIED_SEND in text(anna.get("/settings/email-options?tab=account"))


def test_logging_in_with_found_settings_verifies_the_account_address(app, lab, mailbox):
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": mailbox.address})
    assert "Not verified" in card_addresses(anna)
    logged_in = anna.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert logged_in.status_code == 200 and logged_in.headers["HX-Push-Url"] == "/inbox/"
    assert "Not verified" not in card_addresses(anna)
    anna.post(f"/settings/contact-card/{card_item(app, 'anna@crm.example', mailbox.address).id}/up")
    assert send(anna, "kund@example.test", "Nu går det").status_code == 204


def test_the_sign_in_address_is_verified_from_the_start(app, mailbox):
    connected_user = connected(app, mailbox)
    assert "Not verified" not in card_addresses(connected_user)
    assert card_item(app, mailbox.address, mailbox.address).verified_at is not None


# --- verification links --------------------------------------------------------------------------


def mailed_link(lab, address: str) -> str:
    """The path of the link in the last verification email to `address`, checking who sent it."""
    found = [m for m in lab.received if address in m.rcpt_tos]
    assert found, f"no email to {address}"
    message = email.message_from_bytes(found[-1].data, policy=email.policy.default)
    assert found[-1].auth_user == SYSTEM_SENDER and message["From"].addresses[0].addr_spec == SYSTEM_SENDER
    link = re.search(r"https://\S+", message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(EXTERNAL_URL + "/settings/contact-card/verify/")
    return urlsplit(link).path


def ask_for_link(browser: Browser, app, user_email: str, address: str):
    item = card_item(app, user_email, address)
    return browser.post(f"/settings/contact-card/{item.id}/send-link")


def test_a_mailed_link_verifies_the_address(linking_app, lab):
    app = linking_app
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": "anna.privat@kund.example"})
    card = card_addresses(anna)
    assert "Not verified" in card and "Send verification link" in card
    lab.received.clear()
    assert ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example").status_code == 204
    assert "A verification link was sent to anna.privat@kund.example." in text(
        anna.get(f"/settings/contact-card?sent={card_item(app, 'anna@crm.example', 'anna.privat@kund.example').id}"))
    path = mailed_link(lab, "anna.privat@kund.example")

    page = anna.get(path)  # opening the link asks; it changes nothing by itself
    assert page.status_code == 200 and "Verify email address" in text(page)
    assert card_item(app, "anna@crm.example", "anna.privat@kund.example").verified_at is None
    assert anna.post(path, htmx=False).status_code == 303
    assert card_item(app, "anna@crm.example", "anna.privat@kund.example").verified_at is not None
    assert "Not verified" not in card_addresses(anna)
    assert anna.get(path).status_code == 303  # opened again: already verified, nothing to do


def test_a_link_works_only_for_its_user_and_its_address(linking_app, lab):
    app = linking_app
    victim = signed_in(app, "victim@crm.example", name="Vera Offer")
    mallory = signed_in(app, "mallory@crm.example", name="Mallory")
    mallory.post("/settings/contact-card", {"address": "victim@crm.example"})
    lab.received.clear()
    assert ask_for_link(mallory, app, "mallory@crm.example", "victim@crm.example").status_code == 204
    path = mailed_link(lab, "victim@crm.example")

    # the owner of the address, signed in as themselves, cannot lend it to Mallory
    for attempt in (victim.get(path), victim.post(path, htmx=False)):
        assert attempt.status_code == 400 and "sent for another user" in text(attempt)
    assert card_item(app, "mallory@crm.example", "victim@crm.example").verified_at is None

    # an altered token is refused, and so is a link whose address is no longer on the card
    token = path.rsplit("/", 1)[1]
    assert mallory.get(path[:-len(token)] + token[:-2] + ("AA" if token[-2:] != "AA" else "BB")).status_code == 400
    assert card_item(app, "mallory@crm.example", "victim@crm.example").verified_at is None
    mallory.post(f"/settings/contact-card/{card_item(app, 'mallory@crm.example', 'victim@crm.example').id}/remove")
    mallory.post("/settings/contact-card", {"address": "other@crm.example"})  # may take the freed row id
    assert mallory.get(path).status_code == 400
    assert card_item(app, "mallory@crm.example", "other@crm.example").verified_at is None


def test_a_link_expires(app_config, system_account, lab):
    app = create_app(dict(app_config, SYSTEM_MAIL_URL=system_account, SYSTEM_MAIL_FROM=SYSTEM_SENDER,
                          EXTERNAL_URL=EXTERNAL_URL, VERIFICATION_LINK_HOURS=1 / 3600))
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": "anna.privat@kund.example"})
    lab.received.clear()
    ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example")
    path = mailed_link(lab, "anna.privat@kund.example")
    signed_at = bytes_to_int(base64_decode(path.rsplit("/", 1)[-1].rsplit(".", 2)[1]))  # the link's own moment
    assert eventually(lambda: int(time.time()) - signed_at > 1, 5)  # its one second has passed, in whole seconds
    expired = anna.get(path)
    assert expired.status_code == 400 and "has expired" in text(expired)
    assert card_item(app, "anna@crm.example", "anna.privat@kund.example").verified_at is None


def test_links_are_limited_per_user(linking_app, lab):
    app = linking_app
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": "anna.privat@kund.example"})
    for _ in range(3):
        assert ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example").status_code == 204
    refused = ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example")
    assert refused.status_code == 422 and "Wait a few minutes" in text(refused)


def test_a_sender_that_refuses_is_said_and_nothing_is_verified(app_config, lab):
    wrong = f"smtps://{quote(SYSTEM_SENDER, safe='')}:wrong-password@{lab.hostname}:{lab.smtp_tls_port}"
    app = create_app(dict(app_config, SYSTEM_MAIL_URL=wrong, EXTERNAL_URL=EXTERNAL_URL))
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": "anna.privat@kund.example"})
    lab.received.clear()
    refused = ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example")
    assert refused.status_code == 422 and "The verification link could not be sent." in text(refused)
    assert "wrong-password" not in refused.get_data(as_text=True) and lab.received == []


def test_without_a_sender_of_its_own_the_card_says_links_cannot_be_sent(app, lab):
    anna = signed_in(app, "anna@crm.example")
    anna.post("/settings/contact-card", {"address": "anna.privat@kund.example"})
    card = card_addresses(anna)
    assert "Not verified" in card and "Send verification link" not in card
    assert "Verification links are not available here" in card
    lab.received.clear()
    refused = ask_for_link(anna, app, "anna@crm.example", "anna.privat@kund.example")
    assert refused.status_code == 422 and "Verification links are not available here." in text(refused)
    assert lab.received == []


# --- the migration -------------------------------------------------------------------------------


def test_the_migration_verifies_proven_addresses_and_drops_links_to_the_others(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    from mailcore.db import MIGRATIONS

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def migrate(revision: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    migrate("0005")
    now = "2026-01-01 00:00:00"
    with engine.begin() as db:
        for user_id, email_address in ((1, "anna@crm.example"), (2, "mallory@crm.example")):
            db.execute(sql("INSERT INTO users (id, email, name, password_hash, show_inline_images, "
                           "mark_read_in_preview, save_sent_copy, signature, created_at) "
                           "VALUES (:id, :email, 'x', 'x', 0, 1, 1, '', :now)"),
                       {"id": user_id, "email": email_address, "now": now})
        db.execute(sql("INSERT INTO accounts (id, user_id, address, settings_source, imap_host, imap_port, imap_ssl, "
                       "imap_username, imap_password, smtp_host, smtp_port, smtp_ssl, smtp_same_login, smtp_username, "
                       "smtp_password, created_at) "
                       "VALUES (1, 1, 'Anna@Mail.example', 'manual', 'h', 993, 1, 'u', x'00', "
                       "'h', 465, 1, 1, 'u', x'00', :now)"), {"now": now})
        cards = [(1, 1, 0, "ANNA@crm.example"), (2, 1, 1, "anna@mail.example"), (3, 1, 2, "anna.privat@kund.example"),
                 (4, 2, 0, "mallory@crm.example"), (5, 2, 1, "anna@crm.example")]
        for row in cards:
            db.execute(sql("INSERT INTO contact_emails (id, user_id, position, address) VALUES (:i, :u, :p, :a)"),
                       dict(zip("iupa", row, strict=True)))
        db.execute(sql("INSERT INTO archived_emails (id, user_id, message_id, subject, recipients, sent_at, raw) "
                       "VALUES (1, 1, '<m@x>', 'Avtal', 'anna@crm.example', :now, x'00')"), {"now": now})
        for link_id, card_id in ((1, 1), (2, 5), (3, 3)):
            db.execute(sql("INSERT INTO archived_email_links (id, archived_email_id, contact_email_id) "
                           "VALUES (:i, 1, :c)"), {"i": link_id, "c": card_id})
    migrate("head")
    with engine.connect() as db:
        verified = {row.id for row in db.execute(sql("SELECT id FROM contact_emails WHERE verified_at IS NOT NULL"))}
        links = {row.contact_email_id for row in db.execute(sql("SELECT contact_email_id FROM archived_email_links"))}
    assert verified == {1, 2, 4}  # sign-in addresses, and the connected account's address
    assert links == {1}  # the link made only because Mallory typed Anna's address is gone


@pytest.mark.parametrize("address,username,provider,proven", [
    ("anna@web.de", "anna", "webde", False),  # web.de also serves email.de: "anna" names neither address
    ("anna@web.de", "anna@web.de", "webde", True),  # the whole address
    (f"anna@{MAIL_DOMAIN}", "anna", "testmail", True),  # one domain: the local part names one address
    ("anna@web.de", "anna@web.de", None, True),
    ("anna@web.de", "anna", None, False),  # found by no list: nothing says which domains it serves
])
def test_a_login_proves_the_address_only_when_it_names_the_whole_address(app, address, username, provider, proven):
    """Found settings logged in to prove the account's address only where the user name is the whole
    address or the provider has one domain; otherwise the card address waits for the mailed link."""
    from mailcore import services
    from mailcore.settings import AccountSettings, Credentials, ServerSettings

    make_user(app, "owner@crm.example")
    with app.extensions["mail"].sessions() as db:
        user = services.user_by_email(db, "owner@crm.example")
        services.add_contact_email(db, user, address)
        db.commit()
        assert not next(item for item in user.contact_emails if item.address == address).verified
        server = ServerSettings("imap.example", 993, True, username)
        services.MailService(db, app.extensions["mail"]).store(
            user, AccountSettings(address, server, server), Credentials("pw", "pw"), provider_id=provider,
            source="lists")
        db.commit()
        [item] = [item for item in user.contact_emails if item.address == address]
        assert (item.verified_at is not None) is proven
