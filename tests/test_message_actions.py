"""What users of Outlook on the web, Gmail and Roundcube expect, in a real Chromium against the real
Dovecot and SMTP server: visible actions on the open message, Reply and Forward written as they do,
confirmations with Undo, keyboard shortcuts, the tab title, one date format per language, search in
message bodies, and a reading pane that fits its HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .browser import close_dialog, wait_for_htmx
from .helpers import Browser, server_flags

expect.set_options(timeout=10_000)  # the machine running the suite may be busy; a person waits that long too

ALICE = {"en": {"message": "Message", "reply": "Reply", "forward": "Forward",
                "quote": "On 1 Dec 2026 at 10:57, Alice Johnson wrote:",
                "header": "---------- Forwarded message ----------", "from": "From: Alice Johnson <alice@kund.example>",
                "date": "Date: 1 Dec 2026, 10:57", "subject": "Subject: Kvartalsrapport"},
         "sv": {"message": "Meddelande", "reply": "Svara", "forward": "Vidarebefordra",
                "quote": "Den 1 dec. 2026 kl. 10:57 skrev Alice Johnson:",
                "header": "---------- Vidarebefordrat meddelande ----------",
                "from": "Från: Alice Johnson <alice@kund.example>", "date": "Datum: 1 dec. 2026 kl. 10:57",
                "subject": "Ämne: Kvartalsrapport"}}


def deliver(app, lab, mailbox, subject: str, body: str = "Hej!", sender: str = "Alice Johnson <alice@kund.example>",
            date: datetime | None = None, html: str | None = None, attachment: str | None = None) -> None:
    """A message arrives on the server, and a sync (as another tab's Refresh) brings it here."""
    from email.utils import format_datetime

    item = EmailMessage()
    item["From"], item["To"], item["Subject"] = sender, mailbox.address, subject
    if date:
        item["Date"] = format_datetime(date)
    item.set_content(body)
    if html:
        item.add_alternative(html, subtype="html")
    if attachment:
        item.add_attachment(b"rapportdata", maintype="application", subtype="pdf", filename=attachment)
    lab.append(mailbox.address, item)
    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    client.post("/inbox/refresh")


def open_message(page, subject: str) -> None:
    page.locator("#message-list .message a", has_text=subject).click()
    expect(page.locator("#reading h2")).to_have_text(subject)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_reply_and_forward_are_written_as_mail_programs_do(app, inbox_page, lab, mailbox, lang):
    words = ALICE[lang]
    page = inbox_page(lang)
    deliver(app, lab, mailbox, "Kvartalsrapport", "Se bifogad rapport.",
            date=datetime(2026, 12, 1, 10, 57, tzinfo=UTC), attachment="rapport.pdf")
    page.reload()
    open_message(page, "Kvartalsrapport")

    page.locator("#reading .message-actions").get_by_role("link", name=words["reply"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["reply"])
    body = dialog.get_by_role("textbox", name=words["message"])
    expect(body).to_be_focused()
    expect(body.locator("blockquote")).to_contain_text("Se bifogad rapport.")
    page.keyboard.type("Tack!")  # the cursor is above the quote
    assert body.inner_text().startswith("Tack!\n") and words["quote"] in body.inner_text()
    close_dialog(page)
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.locator("#reading .message-actions").get_by_role("link", name=words["forward"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["forward"])
    body = dialog.get_by_role("textbox", name=words["message"])
    expect(body).to_be_focused()
    text = body.inner_text()
    block = "\n".join((words["header"], words["from"], words["date"], words["subject"]))
    assert block in text and "Se bifogad rapport." in text.split(block)[1]
    expect(dialog.locator(".upload-list")).to_contain_text("rapport.pdf")  # forwarded attachments, removable


def test_delete_goes_to_trash_with_undo_and_the_pane_moves_on(app, inbox_page, lab, mailbox):
    page = inbox_page("en")
    subjects = page.locator("#message-list .message .subject").all_inner_texts()
    open_message(page, subjects[0])
    page.locator("#reading").get_by_role("button", name="Delete", exact=True).click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Message deleted.")
    expect(page.locator("#reading h2")).to_have_text(subjects[1])  # the next message, without a click
    expect(page.locator("#message-list")).not_to_contain_text(subjects[0])
    assert subjects[0] not in server_flags(lab, mailbox.address)
    assert subjects[0] in server_flags(lab, mailbox.address, "Trash")

    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator("#message-list")).to_contain_text(subjects[0])
    assert subjects[0] in server_flags(lab, mailbox.address)
    assert subjects[0] not in server_flags(lab, mailbox.address, "Trash")

    open_message(page, subjects[2])
    page.locator("#reading .move-menu summary").click()
    page.locator("#reading .move-menu").get_by_role("button", name="Archive", exact=True).click()
    expect(toast).to_contain_text("Moved to Archive.")
    expect(toast.get_by_role("button", name="Undo", exact=True)).to_be_visible()
    assert subjects[2] in server_flags(lab, mailbox.address, "Archive")


def test_the_task_menu_closes_on_escape_and_outside(inbox_page):
    page = inbox_page("en")
    page.locator("#message-list .message a").first.click()
    menu = page.locator("#reading details.task-menu")
    menu.locator("summary").click()
    expect(menu.locator(".menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu.locator(".menu")).to_be_hidden()
    menu.locator("summary").click()
    expect(menu.locator(".menu")).to_be_visible()
    page.locator("#reading h2").click()
    expect(menu.locator(".menu")).to_be_hidden()


def test_sent_mail_is_in_sent_at_once_and_rows_show_the_recipient(inbox_page, lab, mailbox):
    page = inbox_page("en")
    page.get_by_role("link", name="New", exact=True).click()
    dialog = page.get_by_role("dialog", name="New email")
    dialog.get_by_label("To", exact=True).fill("Kund AB <kund@example.test>")
    dialog.get_by_label("Subject", exact=True).fill("Direkt i Skickat")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("Your email was sent.")
    page.locator("#folder-picker summary").click()
    page.locator(".folder-menu").get_by_role("link", name="Sent").click()
    row = page.locator("#message-list .message", has_text="Direkt i Skickat")
    expect(row).to_be_visible()  # no sync has run since the send
    expect(row.locator(".sender")).to_have_text("To: Kund AB")
    assert "Direkt i Skickat" in server_flags(lab, mailbox.address, "Sent")


def test_keyboard_shortcuts(inbox_page):
    page = inbox_page("en")
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Reply all")
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()

    subjects = page.locator("#message-list .message .subject").all_inner_texts()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#reading h2")).to_have_text(subjects[1])
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page.locator("#reading h2")).to_have_text(subjects[0])
    page.locator("#reading h2").click()  # the focus leaves the list, the shortcuts still work
    page.keyboard.press("r")
    expect(page.get_by_role("dialog", name="Reply")).to_be_visible()
    close_dialog(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_function("() => !document.querySelector('#modal dialog')")  # removed, its last save done
    wait_for_htmx(page)
    page.locator("#reading h2").click()  # as before "r": the focus is on the message, not in a field
    page.keyboard.press("c")
    expect(page.get_by_role("dialog", name="New email")).to_be_visible()
    close_dialog(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox")).to_be_focused()
    page.locator("#reading h2").click()
    page.keyboard.press("#")
    expect(page.locator("#toast")).to_contain_text("Message deleted.")


def test_a_dialog_is_modal_and_focused_in_the_task_that_shows_it(inbox_page):
    """No moment when a dialog shows but is not yet modal: a field clicked or typed into then would lose
    its text to the focus jumping to the first field."""
    page = inbox_page("en")
    page.evaluate("""() => {
        window.seen = [];
        new MutationObserver(() => {
            const dialog = document.querySelector('#modal dialog[open]');
            if (dialog && !window.seen.length) {
                window.seen.push('shown');
                // the first thing that can run after the task that put it in: a click, a key, a timer
                setTimeout(() => window.seen.push(dialog.matches(':modal') && dialog.contains(document.activeElement)));
            }
        }).observe(document.getElementById('modal'), {childList: true, subtree: true});
    }""")
    page.locator(".inbox-tools a.primary").click()
    expect(page.get_by_role("dialog", name="New email")).to_be_visible()
    page.wait_for_function("() => window.seen.length === 2")
    assert page.evaluate("() => window.seen") == ["shown", True]


def test_a_key_pressed_as_a_dialog_closes_keeps_its_focus(inbox_page):
    """The opener gets the focus back only when it is nowhere: "/" typed right after Esc stays in Search."""
    page = inbox_page("en")
    page.locator(".inbox-tools a.primary").click()
    expect(page.get_by_role("dialog", name="New email")).to_be_visible()
    page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
    # both in one task, before the close event and the dialog's removal run, as a fast typist does it
    # (the field that had the focus keeps it, in a closed dialog, until the browser moves it)
    page.evaluate("""() => {
        const dialog = document.querySelector('dialog:modal');
        const field = dialog.querySelector('#to');
        field.focus();
        dialog.close();
        field.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true}));
    }""")
    page.wait_for_function("() => !document.querySelector('#modal dialog')")  # removed, the focus settled
    expect(page.get_by_role("searchbox")).to_be_focused()
    # with the focus nowhere, closing gives it back to the opener
    page.locator(".inbox-tools a.primary").click()
    close_dialog(page)
    page.wait_for_function("() => !document.querySelector('#modal dialog')")
    expect(page.locator(".inbox-tools a.primary")).to_be_focused()


@pytest.mark.parametrize("lang,title", [("en", "(2) Inbox"), ("sv", "(2) Inkorg")])
def test_the_tab_shows_the_unread_count(inbox_page, lang, title):
    page = inbox_page(lang)
    expect(page).to_have_title(title)
    page.locator("#message-list .message.unread a").first.click()  # read in the preview
    page.locator("#folder-picker").evaluate("node => node")  # the list's next refresh brings the count
    expect(page).to_have_title(title.replace("(2)", "(1)"), timeout=10_000)


def test_select_all_and_a_move_target_that_is_chosen(inbox_page):
    page = inbox_page("en")
    page.locator("#message-list .pick").first.check()
    bar = page.locator("#bulk")
    expect(bar.locator("select[name=target]")).to_have_value("")
    assert bar.locator("select[name=target] option").first.inner_text() == "Choose a folder…"
    bar.get_by_role("button", name="Select all", exact=True).click()
    assert page.locator("#message-list .pick:checked").count() == page.locator("#message-list .pick").count() == 3


@pytest.mark.parametrize("lang,in_list,in_pane", [("en", "1 Dec 2025", "1 Dec 2025, 10:57"),
                                                   ("sv", "1 dec. 2025", "1 dec. 2025 kl. 10:57")])
def test_one_date_format_per_language(app, inbox_page, lab, mailbox, lang, in_list, in_pane):
    page = inbox_page(lang)
    deliver(app, lab, mailbox, "Förra året", date=datetime(2025, 12, 1, 10, 57, tzinfo=UTC))
    page.reload()
    row = page.locator("#message-list .message", has_text="Förra året")
    expect(row.locator(".date")).to_have_text(in_list)
    open_message(page, "Förra året")
    expect(page.locator("#reading time")).to_have_text(in_pane)
    assert not re.search(r"\d+/\d+/\d+", page.locator("#listing").inner_text())


def test_search_finds_words_in_bodies_and_stays_in_the_url(app, inbox_page, base_url, lab, mailbox):
    page = inbox_page("en")
    deliver(app, lab, mailbox, "Leveransplan", "Vi skickar zebrafinkarna på tisdag.")
    page.reload()
    page.get_by_role("searchbox").fill("zebrafink")  # only in the text, which is not stored here yet
    rows = page.locator("#message-list .message")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Leveransplan")
    page.get_by_label("Sort").select_option("date-asc")
    expect(page).to_have_url(re.compile(r"q=zebrafink.*sort=date-asc|sort=date-asc.*q=zebrafink"))
    page.reload()
    expect(page.get_by_role("searchbox")).to_have_value("zebrafink")
    expect(page.get_by_label("Sort")).to_have_value("date-asc")
    expect(rows).to_have_count(1)


def test_an_html_message_fills_the_pane_with_room_around_its_text(app, inbox_page, lab, mailbox):
    page = inbox_page("en")
    paragraphs = "".join(f"<p>Stycke {n} av ett långt nyhetsbrev.</p>" for n in range(80))
    deliver(app, lab, mailbox, "Långt nyhetsbrev", "text", html=f"<div>{paragraphs}</div>")
    page.reload()
    open_message(page, "Långt nyhetsbrev")
    frame = page.locator("#reading iframe.body-frame")
    expect(frame).to_be_visible()
    pane, box = page.locator("#reading").bounding_box(), frame.bounding_box()
    assert abs((box["y"] + box["height"]) - (pane["y"] + pane["height"])) <= 30, "the frame takes the pane's height"
    assert box["height"] > 400
    assert page.evaluate(
        "() => { const r = document.getElementById('reading'); return r.scrollHeight <= r.clientHeight + 1; }"), \
        "one scrollbar: the frame's own, not the pane's too"
    assert "padding:12px 16px" in frame.get_attribute("srcdoc")
    assert frame.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"  # still no scripts


def test_a_link_to_a_message_opens_the_inbox_with_it(inbox_page, base_url):
    page = inbox_page("en")
    page.locator("#message-list .message a").first.click()
    expect(page).to_have_url(re.compile(r"message=\d+"))
    page.reload()  # the URL the row pushed is a whole page of its own
    expect(page.locator("#reading h2")).to_be_visible()
    expect(page.locator("#message-list .message").first).to_be_visible()
