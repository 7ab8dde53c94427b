"""A day of use in a real Chromium against the real Dovecot and SMTP server: nothing typed or attached
is lost, the list keeps the user's place while it updates, drafts behave, and the phone layout works."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .browser import DESKTOP, SIGN_IN, TIMEOUT, ConsoleProblems, close_dialog, sign_in, wait_for_htmx
from .helpers import Browser, make_user, server_flags

expect.set_options(timeout=10_000)  # the machine running the suite may be busy; a person waits that long too


def received(lab, subject: str) -> list:
    return [email.message_from_bytes(m.data, policy=email.policy.default) for m in lab.received
            if email.message_from_bytes(m.data, policy=email.policy.default)["Subject"] == subject]


def test_an_attachment_survives_a_form_error(inbox_page, lab, tmp_path):
    page = inbox_page("en")
    lab.received.clear()
    offer = tmp_path / "offert-2026.pdf"
    offer.write_bytes(b"%PDF-1.4 offer " * 1000)
    page.get_by_role("link", name="New", exact=True).click()
    dialog = page.get_by_role("dialog", name="New email")
    dialog.get_by_label("Attach files", exact=True).set_input_files(str(offer))
    expect(dialog.locator(".upload-list")).to_contain_text("offert-2026.pdf")
    dialog.get_by_label("To", exact=True).fill("kund@example")  # mistyped: no top-level domain
    dialog.get_by_label("Subject", exact=True).fill("Offert med bilaga")
    dialog.get_by_label("Message", exact=True).fill("Här är offerten.")
    dialog.get_by_role("button", name="Send", exact=True).click()

    dialog = page.get_by_role("dialog", name="New email")
    expect(dialog.locator(".chip.bad")).to_contain_text("kund@example")  # marked before Send
    expect(dialog.get_by_role("alert").first).to_contain_text("not valid email addresses")
    expect(dialog.locator(".upload-list")).to_contain_text("offert-2026.pdf")  # still attached, and shown
    expect(dialog.get_by_label("Message", exact=True)).to_have_text("Här är offerten.")
    dialog.get_by_role("button", name="Remove: kund@example", exact=True).click()  # the marked chip
    dialog.get_by_label("To", exact=True).fill("kund@example.test")
    dialog.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("Your email was sent.")
    [sent] = received(lab, "Offert med bilaga")
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == "offert-2026.pdf"
    assert attachment.get_content() == b"%PDF-1.4 offer " * 1000


def test_a_removed_attachment_is_not_sent(inbox_page, lab, tmp_path):
    page = inbox_page("en")
    lab.received.clear()
    for name in ("keep.txt", "drop.txt"):
        (tmp_path / name).write_text(name)
    page.get_by_role("link", name="New", exact=True).click()
    dialog = page.get_by_role("dialog", name="New email")
    dialog.get_by_label("Attach files", exact=True).set_input_files(
        [str(tmp_path / "keep.txt"), str(tmp_path / "drop.txt")])
    expect(dialog.locator(".upload-list li")).to_have_count(2)
    dialog.get_by_role("button", name="Remove: drop.txt", exact=True).click()
    expect(dialog.locator(".upload-list li")).to_have_count(1)
    dialog.get_by_label("To", exact=True).fill("kund@example.test")
    dialog.get_by_label("Subject", exact=True).fill("En bilaga")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("Your email was sent.")
    [sent] = received(lab, "En bilaga")
    assert [a.get_filename() for a in sent.iter_attachments()] == ["keep.txt"]


def test_the_list_merges_updates_and_keeps_the_users_place(app, inbox_page, lab, mailbox):
    page = inbox_page("en")
    lab.bulk_load(mailbox.address, 80, seed=3)
    writer = Browser(app.test_client())
    writer.sign_in(mailbox.address, "crm-password-1")
    writer.post("/inbox/refresh")
    page.reload()
    listing = page.locator("#listing")
    rows = page.locator("#message-list > li.message")
    expect(rows).to_have_count(50)
    listing.evaluate("list => list.scrollTop = list.scrollHeight")  # the next page comes in as it is revealed
    expect(rows).to_have_count(83)
    rows.nth(5).locator("a").click()
    wait_for_htmx(page)
    opened = rows.nth(5).get_attribute("id")
    rows.nth(7).locator(".pick").check()
    rows.nth(8).locator(".pick").check()
    listing.evaluate("list => list.scrollTop = 600")
    top_row = page.evaluate("""() => {
        const list = document.getElementById('listing'), box = list.getBoundingClientRect();
        return document.elementFromPoint(box.left + 60, box.top + 5).closest('li').id; }""")

    new = EmailMessage()
    new["From"], new["To"], new["Subject"] = "Ny Kund <ny@kund.example>", mailbox.address, "Alldeles ny"
    new.set_content("Hej")
    lab.append(mailbox.address, new)
    writer.post("/inbox/refresh")  # another tab syncs; this page learns it from its own poll
    expect(page.locator("#message-list")).to_contain_text("Alldeles ny", timeout=10_000)
    wait_for_htmx(page)

    expect(rows).to_have_count(84)  # nothing the user scrolled to went away
    expect(page.locator(f"#{opened}")).to_have_class("message selected")
    assert page.locator(".pick:checked").count() == 2
    assert page.evaluate("""() => {
        const list = document.getElementById('listing'), box = list.getBoundingClientRect();
        return document.elementFromPoint(box.left + 60, box.top + 5).closest('li').id; }""") == top_row
    assert page.evaluate("() => document.getElementById('listing').scrollTop") >= 600


def test_one_draft_per_window_deleted_on_send_and_reopened_whole(app, inbox_page, lab, mailbox, tmp_path):
    page = inbox_page("en")
    (tmp_path / "plan.txt").write_text("the plan")
    page.get_by_role("link", name="New", exact=True).click()
    dialog = page.get_by_role("dialog", name="New email")
    dialog.get_by_label("To", exact=True).fill("kund@example.test")
    dialog.get_by_label("Subject", exact=True).fill("Halvfärdigt")
    dialog.get_by_label("Message", exact=True).fill("Första stycket.")
    dialog.get_by_label("Attach files", exact=True).set_input_files(str(tmp_path / "plan.txt"))
    expect(dialog.locator("#draft-state")).to_contain_text("Draft saved.", timeout=10_000)
    dialog.get_by_label("Message", exact=True).fill("Första stycket. Andra stycket.")
    expect(dialog.locator("#draft-state")).to_contain_text("Draft saved.", timeout=10_000)
    close_dialog(page)  # closed: the draft stays in Drafts, once
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_timeout(500)
    wait_for_htmx(page)
    assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Halvfärdigt"]

    # a reply opened and closed without a word typed leaves nothing behind
    page.locator("#message-list .message a").first.click()
    page.get_by_role("link", name="Reply", exact=True).click()
    expect(page.get_by_role("dialog", name="Reply")).to_be_visible()
    close_dialog(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_timeout(500)
    wait_for_htmx(page)
    assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Halvfärdigt"]

    page.locator("#folder-picker summary").click()
    page.locator(".folder-menu").get_by_role("link", name="Drafts").click()
    expect(page.locator("#message-list")).to_contain_text("Halvfärdigt")
    expect(page.locator("#message-list")).to_contain_text("To: kund@example.test")
    page.locator("#message-list .message a").first.click()
    dialog = page.get_by_role("dialog", name="New email")
    expect(dialog.locator(".chip")).to_have_text(["kund@example.test×"])
    expect(dialog.get_by_label("Subject", exact=True)).to_have_value("Halvfärdigt")
    expect(dialog.get_by_label("Message", exact=True)).to_have_text("Första stycket. Andra stycket.")
    expect(dialog.locator(".upload-list")).to_contain_text("plan.txt")
    lab.received.clear()
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("Your email was sent.")
    page.wait_for_timeout(500)
    assert server_flags(lab, mailbox.address, "Drafts") == {}
    [sent] = received(lab, "Halvfärdigt")
    assert [a.get_filename() for a in sent.iter_attachments()] == ["plan.txt"]


def assert_no_sideways_scroll(page, screen: str) -> None:
    wait_for_htmx(page)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{screen}: the page is {widths[0]} px wide on a {widths[1]} px screen"


@pytest.mark.parametrize("width", [360, 390, 414])
def test_the_phone_layout(app, inbox_page, base_url, chromium, width):
    page = inbox_page("sv", {"width": width, "height": 844})
    navigator = page.get_by_role("navigation", name="Navigator")
    box = navigator.bounding_box()
    assert box["y"] + box["height"] <= 53, "the navigator is folded into the top bar"
    expect(navigator.get_by_role("link", name="Inkorg")).to_be_visible()
    assert_no_sideways_scroll(page, "the list")
    expect(page.get_by_role("button", name="Uppdatera")).to_be_in_viewport()
    expect(page.get_by_label("Sortera")).to_be_in_viewport()

    list_pane, reading = page.locator(".list-pane"), page.locator("#reading")
    page.locator("#message-list .message a").first.click()
    expect(reading.get_by_role("heading", level=2)).to_be_visible()
    expect(list_pane).to_be_hidden()  # the message has the whole screen
    assert "message=" in page.url
    assert_no_sideways_scroll(page, "an open message")
    for button in ("Svara", "Svara alla", "Vidarebefordra", "Flytta", "Ta bort"):
        expect(reading.locator(".message-actions").get_by_text(button, exact=True)).to_be_in_viewport()
    reading.get_by_label("Uppgifter").click()
    expect(reading.locator(".task-menu .menu")).to_be_in_viewport(ratio=1)
    assert_no_sideways_scroll(page, "the task menu")
    page.keyboard.press("Escape")
    expect(reading.locator(".task-menu .menu")).to_be_hidden()

    page.locator("#message-list .message a").nth(1).evaluate("link => link.click()")  # another message, then Back
    second_subject = page.locator("#message-list .message .subject").nth(1).inner_text()
    expect(reading.get_by_role("heading", level=2)).to_have_text(second_subject)
    page.go_back()  # the browser's back button returns to the list, not to the message before
    expect(list_pane).to_be_visible()
    expect(reading.get_by_role("heading", level=2)).to_have_count(0)
    page.locator("#message-list .message a").nth(1).click()
    expect(list_pane).to_be_hidden()
    reading.get_by_role("link", name="Tillbaka till listan").click()
    expect(list_pane).to_be_visible()

    page.locator("#message-list .message a").first.click()
    reading.get_by_role("link", name="Svara", exact=True).click()
    compose = page.get_by_role("dialog", name="Svara")
    expect(compose).to_be_visible()
    size = compose.bounding_box()
    assert size["width"] >= width - 1 and size["height"] >= 843, "compose fills the screen"
    expect(compose.get_by_role("button", name="Skicka", exact=True)).to_be_in_viewport()
    assert_no_sideways_scroll(page, "compose")
    close_dialog(page)
    expect(page.get_by_role("dialog")).to_have_count(0)

    for path, screen in (("/settings/contact-card", "the contact card"), ("/settings/personal", "Personal settings"),
                         ("/settings/email-options", "Email options"), ("/inbox/setup/advanced", "Advanced settings")):
        page.goto(base_url + path)
        expect(page.locator("main")).to_be_visible()
        assert_no_sideways_scroll(page, screen)
    page.goto(base_url + "/settings/contact-card")
    for button in page.locator(".emails button").all():
        expect(button).to_be_in_viewport(ratio=1)

    settings = "Personliga inställningar"
    page.get_by_role("button", name=settings).or_(page.get_by_title(settings)).first.click()
    page.locator("form[action='/signout'] button").click()
    assert_no_sideways_scroll(page, "Sign in")


def test_setup_starts_with_the_crm_address_and_a_wrong_password_stays_on_its_step(app, base_url, chromium, mailbox):

    make_user(app, mailbox.address, language="en")
    context = chromium.new_context(locale="en-GB", viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    console = ConsoleProblems(page)
    console.allowed_statuses.add(422)
    sign_in(page, base_url, mailbox.address, "crm-password-1", SIGN_IN["en"])
    dialog = page.get_by_role("dialog", name="Set up email account")
    expect(dialog.get_by_label("Email account", exact=True)).to_have_value(mailbox.address)
    dialog.get_by_role("button", name="Next", exact=True).click()
    password = dialog.get_by_label("Password", exact=True)
    password.fill("not-the-password")
    dialog.get_by_role("button", name="Log in", exact=True).click()

    expect(dialog.locator("#password-error")).to_contain_text("The user name or password was not accepted")
    expect(page.get_by_role("dialog", name="Advanced settings")).to_have_count(0)
    password = dialog.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    expect(password).to_have_value("")
    password.fill(mailbox.password)
    dialog.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="INBOX", exact=True)).to_be_visible()
    context.close()
    assert not console.messages
