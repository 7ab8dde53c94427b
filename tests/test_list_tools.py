"""The list and the open message in a real Chromium against the real Dovecot: Move offers no Sent or
Drafts for received mail, the "⋯" menu does not repeat the visible buttons, the multi-select bar
takes the tools' place without moving the list, counts, picks ranges, and the phone's targets and
bottom sheets."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .browser import PHONE

expect.set_options(timeout=10_000)


def test_move_targets_the_task_menu_and_the_multi_select_bar(inbox_page):
    page = inbox_page("en")
    rows = page.locator("#message-list > li.message")
    expect(rows).to_have_count(3)
    rows.first.locator("a").click()
    reading = page.locator("#reading")
    reading.get_by_text("Move", exact=True).click()
    targets = reading.locator(".move-menu .menu button[name=target]").all_inner_texts()
    assert "Archive" in targets or "Trash" in targets, targets
    assert "Sent" not in targets and "Drafts" not in targets, targets
    page.keyboard.press("Escape")
    reading.get_by_label("Tasks").click()
    tasks = reading.locator(".task-menu .menu")
    expect(tasks).to_be_visible()
    expect(tasks).not_to_contain_text("Move to folder")  # the Move button beside it does that
    expect(tasks).to_contain_text("Print selected email")
    page.keyboard.press("Escape")

    first_row = rows.first.bounding_box()
    bar = page.locator("#bulk")
    rows.nth(0).locator(".pick").click()
    expect(bar).to_be_visible()
    expect(bar.locator(".picked-count")).to_have_text("1 selected")
    assert rows.first.bounding_box()["y"] == first_row["y"], "the bar takes the tools' place: the list stays"
    assert bar.bounding_box()["y"] <= page.locator(".inbox-tools").bounding_box()["y"] + 1
    options = bar.locator("select[name=target] option").all_inner_texts()
    assert "Sent" not in options and "Drafts" not in options, options
    rows.nth(2).locator(".pick").click(modifiers=["Shift"])  # a range
    expect(page.locator(".pick:checked")).to_have_count(3)
    expect(bar.locator(".picked-count")).to_have_text("3 selected")
    bar.get_by_role("button", name="Select none", exact=True).click()
    expect(page.locator(".pick:checked")).to_have_count(0)
    expect(bar).to_be_hidden()
    rows.nth(1).locator(".pick").click()
    expect(bar.get_by_role("button", name="Select all", exact=True)).to_be_visible()


def test_phone_targets_and_bottom_sheets(inbox_page):
    page = inbox_page("sv", PHONE)
    rows = page.locator("#message-list > li.message")
    area = rows.first.locator(".pick-area").bounding_box()
    assert area["width"] >= 44 and area["height"] >= 44
    rows.first.locator(".pick-area").click()
    bar = page.locator("#bulk")
    expect(bar.locator(".picked-count")).to_have_text("1 markerat")
    for button in bar.locator("button:visible").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()
    rows.first.locator(".pick-area").click()
    expect(bar).to_be_hidden()

    rows.first.locator("a").click()
    reading = page.locator("#reading")
    reading.get_by_label("Uppgifter").click()
    sheet = reading.locator(".task-menu .menu")
    expect(sheet).to_be_in_viewport(ratio=1)
    for entry in sheet.locator("a, button").all():
        assert entry.bounding_box()["height"] >= 44, entry.inner_text()
    dimmed = page.evaluate("""() => getComputedStyle(document.querySelector('.task-menu[open]'), '::before')
                              .backgroundColor""")
    assert dimmed.startswith("rgba(") and not dimmed.endswith(", 0)"), dimmed
    sheet.get_by_role("button", name="Avbryt", exact=True).click()
    expect(sheet).to_be_hidden()
    reading.locator(".move-menu summary").click()
    moves = reading.locator(".move-menu .menu")
    expect(moves).to_be_in_viewport(ratio=1)
    page.mouse.click(195, 60)  # the dimmed page above the sheet closes it
    expect(moves).to_be_hidden()


def test_a_folder_link_names_the_folder_and_survives_a_new_setup(app, inbox_page, base_url, lab, mailbox):
    from email.message import EmailMessage

    from .helpers import Browser

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Kund <k@kund.example>", mailbox.address, "I projektmappen"
    message.set_content("Hej")
    lab.create_folder(mailbox.address, "Kunder.Projekt")
    lab.append(mailbox.address, message, folder="Kunder.Projekt")
    page = inbox_page("en")
    writer = Browser(app.test_client())
    writer.sign_in(mailbox.address, "crm-password-1")
    writer.post("/inbox/refresh")
    page.reload()
    page.locator("#folder-picker summary").click()
    page.locator(".folder-menu").get_by_role("link", name="Kunder.Projekt").click()
    expect(page.locator("#message-list")).to_contain_text("I projektmappen")
    link = page.locator(".folder-menu a.current").get_attribute("href")
    assert "folder=Kunder.Projekt" in link, link
    old = page.evaluate("() => document.querySelector('#listing').getAttribute('hx-get')")
    old_id = next(part for part in old.split("&") if "folder=" in part)

    # the account is removed and set up again: new rows, new ids; the link still opens the folder
    assert writer.post("/settings/email-account/remove").status_code == 204
    writer.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    writer.post("/inbox/refresh")
    page.goto(base_url + link)
    expect(page.locator("#message-list")).to_contain_text("I projektmappen")
    expect(page.locator("#folder-title")).to_contain_text("Kunder.Projekt")
    page.goto(base_url + "/inbox/?folder=999999")  # a link by an old row id that is gone: the inbox
    expect(page.locator("#folder-title")).to_contain_text("INBOX")
    expect(page.locator("#message-list")).to_contain_text("Offert för våren")
    assert old_id  # the poll, too, names the folder by its path
    assert "Projekt" in old_id


def test_the_folder_picker_stays_open_while_the_list_updates(app, inbox_page, lab, mailbox):
    from email.message import EmailMessage

    from .helpers import Browser

    page = inbox_page("en")
    page.locator("#folder-picker summary").click()
    expect(page.locator(".folder-menu")).to_be_visible()
    new = EmailMessage()
    new["From"], new["To"], new["Subject"] = "Ny Kund <ny@kund.example>", mailbox.address, "Alldeles ny"
    new.set_content("Hej")
    lab.append(mailbox.address, new)
    writer = Browser(app.test_client())
    writer.sign_in(mailbox.address, "crm-password-1")
    writer.post("/inbox/refresh")  # the page learns it from its poll, whose answer brings the picker anew
    expect(page.locator("#message-list")).to_contain_text("Alldeles ny")
    expect(page.locator(".folder-menu")).to_be_visible()
