"""Templates with CRM fields: written in Personal settings > Templates, chosen in a compose window,
filled from the recipient's contact card (escaped; a field without a value left out), shared or
the user's own, with attachments; in a real Chromium against the real Dovecot and SMTP server."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest

from mailcore.compose import templates
from mailcore.crm.people import create_contact
from mailcore.models import User

from .helpers import Browser, connected, make_user, received, text

BODY = ("<div>Hej [[contact.first_name]],</div><div>tack för mötet med [[contact.company]] "
        "([[contact.title]]).</div><div>[[me.name]]</div>")


def template_id(client, name: str) -> int:
    page = client.get("/settings/templates").get_data(as_text=True)
    found = re.search(r'href="/settings/templates/(\d+)">[^<]*<span class="visually-hidden">: ' + re.escape(name), page)
    assert found, page
    return int(found.group(1))


def make_template(client, name: str, shared: bool = False, files=()) -> int:
    form = {"name": name, "subject": "Tack för mötet, [[contact.first_name]]", "text": "", "html": BODY}
    if shared:
        form["shared"] = "y"
    if files:
        form["attachments"] = [(io.BytesIO(data), filename) for filename, data in files]
    response = client.post("/settings/templates/new", form, content_type="multipart/form-data")
    assert response.status_code in (200, 204, 302, 303), text(response)
    return template_id(client, name)


def contact(app, address: str, first: str, last: str, title: str, company: str) -> None:
    with app.extensions["mail"].sessions() as db:
        create_contact(db, address, first_name=first, last_name=last, title=title, new_company=company)


def use(client, template: int, to: str) -> tuple[int, dict]:
    form = {"template": str(template), "to": to}  # a new email's window is made by its first POST
    response = client.post("/inbox/compose/template", form)
    return response.status_code, (response.get_json() if response.status_code == 200 else {})


def test_fields_are_filled_from_the_contact_escaped_and_left_out_when_unknown(app, lab, mailbox):
    client = connected(app, mailbox)
    contact(app, "karin@kund.example", "Karin", "Berg", "Inköpare", "Kund <&> AB")
    offer = make_template(client, "Tack för mötet")
    status, known = use(client, offer, "Karin Berg <karin@kund.example>")
    assert status == 200
    assert known["subject"] == "Tack för mötet, Karin"
    assert "Hej Karin," in known["html"] and "Kund &lt;&amp;&gt; AB (Inköpare)" in known["html"]
    assert "Anna Andersson" in known["html"]
    status, unknown = use(client, offer, "okand@annan.example")
    assert unknown["subject"] == "Tack för mötet," and "Hej," in unknown["html"]
    assert "[[" not in unknown["html"] and "()" in unknown["html"]  # nothing is sent as a placeholder


def test_only_the_owner_changes_a_template_and_a_private_one_is_not_used_by_others(app, lab, mailbox):
    client = connected(app, mailbox)
    private, shared = make_template(client, "Privat"), make_template(client, "Gemensam", shared=True)
    make_user(app, "kollega@crm.example", name="Kollega")
    other = Browser(app.test_client())
    other.sign_in("kollega@crm.example", "crm-password-1")
    listing = other.get("/settings/templates").get_data(as_text=True)
    assert "Gemensam" in listing and "Privat" not in listing
    assert other.get(f"/settings/templates/{shared}").status_code == 404  # used, not changed
    assert other.post(f"/settings/templates/{shared}/delete", {}).status_code == 404
    with app.extensions["mail"].sessions() as db:
        from mailcore.models import MailTemplate
        assert db.get(MailTemplate, shared) is not None
    # the colleague has no mail account: the compose route refuses before any template is read
    assert client.post(f"/settings/templates/{private}/delete", {}).status_code in (200, 204, 302, 303)
    assert "Privat" not in client.get("/settings/templates").get_data(as_text=True)


def test_a_template_needs_csrf(app, lab, mailbox):
    client = connected(app, mailbox)
    offer = make_template(client, "Offert")
    raw = client.client.post(f"/settings/templates/{offer}/delete")
    assert raw.status_code == 400
    assert "Offert" in client.get("/settings/templates").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_template_chosen_for_a_known_contact_is_sent_filled_with_its_attachment(app, lab, mailbox, inbox_page,
                                                                                  lang):
    from playwright.sync_api import expect

    words = {"sv": {"New": "Nytt e-postmeddelande", "Template": "Mall", "To": "Till", "Message": "Meddelande",
                    "Send": "Skicka", "Subject": "Ämne"},
             "en": {"New": "New", "Template": "Template", "To": "To", "Message": "Message", "Send": "Send",
                    "Subject": "Subject"}}[lang]
    page = inbox_page(lang)
    contact(app, f"karin.{lang}@kund.example", "Karin", "Berg", "Inköpare", "Kund AB")
    with app.extensions["mail"].sessions() as db:
        user = db.query(User).filter_by(email=mailbox.address).one()
        kept = templates.save(db, user, None, name="Tack för mötet", subject="Tack för mötet, [[contact.first_name]]",
                              html=BODY, shared=False)
        templates.add_file(db, kept, "villkor.pdf", "application/pdf", b"%PDF-1.4 villkor")
    lab.received.clear()
    page.reload()
    page.get_by_role("link", name=words["New"], exact=True).click()
    page.get_by_label(words["To"], exact=True).fill(f"karin.{lang}@kund.example")
    editor = page.get_by_role("textbox", name=words["Message"])
    expect(editor).to_be_visible()
    page.get_by_label(words["Template"], exact=True).select_option(label="Tack för mötet")
    expect(editor).to_contain_text("Hej Karin,")
    expect(editor).to_contain_text("tack för mötet med Kund AB (Inköpare).")
    expect(page.get_by_label(words["Subject"], exact=True)).to_have_value("Tack för mötet, Karin")
    expect(page.locator(".upload-list")).to_contain_text("villkor.pdf")
    page.get_by_role("button", name=words["Send"], exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    [sent] = received(lab, "Tack för mötet, Karin")
    parsed = email.message_from_bytes(sent.data, policy=email.policy.default)
    assert "tack för mötet med Kund AB (Inköpare)." in parsed.get_body(("html",)).get_content()
    assert "Hej Karin," in parsed.get_body(("plain",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "villkor.pdf" and attachment.get_content() == b"%PDF-1.4 villkor"
