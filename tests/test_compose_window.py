"""The compose window in a real Chromium against the real Dovecot and SMTP server: recipients as
chips suggested from the people the user knows, a mistyped address marked before Send, Save draft
and "Draft saved" on closing, the product's own attachment button with files dropped on the window,
and no earlier confirmation left under a new error."""

from __future__ import annotations

import email
import email.policy
from email.utils import getaddresses

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .browser import PHONE, close_dialog, wait_for_htmx
from .helpers import server_flags

expect.set_options(timeout=10_000)

WORDS = {
    "en": {"new": "New", "title": "New email", "to": "To", "subject": "Subject", "send": "Send",
           "sent": "Your email was sent.", "bad": "Check the marked address", "remove": "Remove",
           "save": "Save draft", "saved": "Draft saved.", "attach": "Attach files", "drafts": "Drafts"},
    "sv": {"new": "Nytt e-postmeddelande", "title": "Nytt e-postmeddelande", "to": "Till", "subject": "Ämne",
           "send": "Skicka",
           "sent": "Ditt e-postmeddelande har skickats.", "bad": "Kontrollera den markerade adressen",
           "remove": "Ta bort", "save": "Spara utkast", "saved": "Utkastet sparades.", "attach": "Bifoga filer",
           "drafts": "Utkast"},
}


def received(lab, subject: str) -> list:
    found = [email.message_from_bytes(m.data, policy=email.policy.default) for m in lab.received]
    return [m for m in found if m["Subject"] == subject]


def open_new(page, words):
    page.get_by_role("link", name=words["new"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["title"])
    expect(dialog).to_be_visible()
    return dialog


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_recipients_become_chips_suggested_checked_and_sent(inbox_page, lab, lang):
    words = WORDS[lang]
    page = inbox_page(lang)
    lab.received.clear()
    dialog = open_new(page, words)
    # the people the user got mail from are suggested, with their names, beside the CRM's
    suggested = dialog.locator("#contacts option").evaluate_all("options => options.map(o => o.value)")
    assert "Anna Berg <anna@kund.example>" in suggested and "Åsa Öberg <asa@kund.example>" in suggested
    to = dialog.get_by_label(words["to"], exact=True)
    to.fill("Anna Berg <anna@kund.example>")  # as the browser fills in a chosen suggestion
    to.press("Enter")
    chips = dialog.locator(".chips").first.locator(".chip")
    expect(chips).to_have_count(1)
    expect(chips.first.locator(".chip-name")).to_have_text("Anna Berg")
    expect(chips.first.locator(".chip-address")).to_have_text("anna@kund.example")
    to.fill("bob@partner.example; \"Öberg, Åsa\" <asa@kund.example>, ")  # a pasted list splits
    expect(chips).to_have_count(3)
    expect(chips.nth(2).locator(".chip-name")).to_have_text("Öberg, Åsa")
    to.fill("kund@gmial.com")
    to.press("Enter")
    expect(chips).to_have_count(4)
    expect(chips.nth(3)).to_have_class("chip bad")  # marked before Send, and said
    expect(dialog.locator(".chip-warning").first).to_contain_text(words["bad"])
    dialog.get_by_role("button", name=f"{words['remove']}: kund@gmial.com", exact=True).click()
    expect(chips).to_have_count(3)
    expect(dialog.locator(".chip-warning").first).to_be_hidden()
    to.fill("Ny Kund <ny.kund@nytt.example>")
    to.blur()  # leaving the field makes the chip too
    expect(chips).to_have_count(4)
    dialog.get_by_label(words["subject"], exact=True).fill(f"Chips {lang}")
    dialog.get_by_role("button", name=words["send"], exact=True).click()
    expect(page.locator("#toast")).to_contain_text(words["sent"])
    [sent] = received(lab, f"Chips {lang}")
    assert [address for _name, address in getaddresses([str(sent["To"])])] == [
        "anna@kund.example", "bob@partner.example", "asa@kund.example", "ny.kund@nytt.example"]

    # whom the user mailed is suggested next time, a removed chip's text comes back with Backspace
    dialog = open_new(page, words)
    suggested = dialog.locator("#contacts option").evaluate_all("options => options.map(o => o.value)")
    assert "Ny Kund <ny.kund@nytt.example>" in suggested
    to = dialog.get_by_label(words["to"], exact=True)
    to.fill("a@kund.example,")
    to.press("Backspace")
    expect(to).to_have_value("a@kund.example")
    expect(dialog.locator(".chip")).to_have_count(0)


def test_save_draft_draft_saved_on_closing_and_a_sent_draft_leaves_drafts(inbox_page, lab, mailbox):
    words = WORDS["en"]
    page = inbox_page("en")
    dialog = open_new(page, words)
    dialog.get_by_label("To", exact=True).fill("kund@example.test")
    dialog.get_by_label("Subject", exact=True).fill("Sparas för hand")
    dialog.get_by_role("button", name="Save draft", exact=True).click()
    expect(dialog.locator("#draft-state")).to_contain_text("Draft saved.")
    assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Sparas för hand"]
    dialog.get_by_label("Message", exact=True).fill("Lite till.")
    close_dialog(page)  # Esc: the draft is saved, and the user is told
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#toast")).to_have_text("Draft saved.")

    page.locator("#folder-picker summary").click()
    page.locator(".folder-menu").get_by_role("link", name="Drafts").click()
    rows = page.locator("#message-list .message")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    dialog = page.get_by_role("dialog", name="New email")
    expect(dialog.locator(".chip")).to_have_count(1)
    expect(dialog.locator(".chip")).to_contain_text("kund@example.test")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("Your email was sent.")
    expect(rows).to_have_count(0, timeout=3_000)  # at once, not at the next poll
    assert server_flags(lab, mailbox.address, "Drafts") == {}


def test_attach_button_drop_on_the_window_and_no_toast_under_an_error(inbox_page, lab):
    words = WORDS["sv"]
    page = inbox_page("sv", PHONE)
    lab.received.clear()
    dialog = open_new(page, words)
    button = dialog.get_by_text(words["attach"], exact=True)
    expect(button).to_be_visible()
    field = dialog.locator("input[type=file]")
    assert field.bounding_box()["width"] <= 1  # the browser's own "Choose Files" is never seen
    editor = dialog.get_by_role("textbox", name="Meddelande")
    expect(editor).to_be_visible()  # the formatting editor, in the text area's place
    body = editor.bounding_box()
    assert body["height"] >= 844 * 0.3, "the message uses the height of the screen"
    to_box = dialog.locator(".chips").first.bounding_box()
    dialog.get_by_label(words["to"], exact=True).fill("en.lang.adress.till.kunden@kundforetaget.example")
    dialog.get_by_label(words["to"], exact=True).press("Enter")
    chip = dialog.locator(".chip").first
    assert chip.evaluate("c => c.scrollWidth <= c.clientWidth + 1"), "the whole address shows"
    assert chip.bounding_box()["x"] + chip.bounding_box()["width"] <= to_box["x"] + to_box["width"] + 1

    dialog.locator("dialog.compose, .dialog-body").first.evaluate("""target => {
        const data = new DataTransfer();
        data.items.add(new File(["offert"], "offert.txt", {type: "text/plain"}));
        for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
        } }""")
    expect(dialog.locator(".upload-list")).to_contain_text("offert.txt")
    expect(dialog).not_to_have_class("modal compose dropping")

    dialog.get_by_label(words["subject"], exact=True).fill("Med bilaga")
    dialog.get_by_role("button", name=words["send"], exact=True).click()
    expect(page.locator("#toast")).to_contain_text(words["sent"])
    [sent] = received(lab, "Med bilaga")
    assert [a.get_filename() for a in sent.iter_attachments()] == ["offert.txt"]

    dialog = open_new(page, words)  # an error right after: the earlier confirmation does not stay under it
    dialog.get_by_label(words["subject"], exact=True).fill("Utan mottagare")
    dialog.get_by_role("button", name=words["send"], exact=True).click()
    expect(dialog.get_by_role("alert").first).to_be_visible()
    expect(page.locator("#toast")).to_be_empty()
    wait_for_htmx(page)
