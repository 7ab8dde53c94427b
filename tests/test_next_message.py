"""After a Move or Delete of the open message the reading pane goes on to the next one: the server
decides which, in the list's order, search and sort as the page sends them, and its answer brings
the pane. Against the real Dovecot, through the app's own forms and in a real Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .helpers import Browser, connected, folder_id, rows, server_flags, text

# Older than the mailbox's own three (which came today), one a day, each subject once.
DATED = (("Avtal ett", 1), ("Möte två", 2), ("Avtal tre", 3), ("Möte fyra", 4))


def add_dated(lab, mailbox, client) -> None:
    """The four dated messages arrive, and a sync brings them (it runs within the request here)."""
    for subject, day in DATED:
        item = EmailMessage()
        item["From"], item["To"], item["Subject"] = "Kund AB <info@kund.example>", mailbox.address, subject
        item["Date"] = datetime(2026, 11, day, 9, 0, tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        item.set_content("Hej!")
        lab.append(mailbox.address, item)
    client.post("/inbox/refresh")


@pytest.fixture
def inbox(app, lab, mailbox):
    """Signed in on the connected mailbox, with the four dated messages beside its own three."""
    client = connected(app, mailbox)
    add_dated(lab, mailbox, client)
    return client


def dated_page(app, lab, mailbox, inbox_page):
    """The inbox in Chromium, in English, with the four dated messages."""
    page = inbox_page("en")
    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    add_dated(lab, mailbox, client)
    page.reload()
    return page


def pane(response) -> tuple[str | None, bool]:
    """The reading pane in an answer: the subject of the message it shows (None: no message), and
    whether it comes out of band (beside the list)."""
    html = response.get_data(as_text=True)
    found = re.search(r'<article id="reading"[^>]*>', html)
    assert found, "the answer brings no reading pane"
    opened = re.search(r'data-message="(\d+)"', found.group(0))
    subject = re.search(r'<h2 id="reading-subject">([^<]*)</h2>', html) if opened else None
    return (subject.group(1) if subject else None), 'hx-swap-oob="true"' in found.group(0)


def move(client, app, subject: str, path: str = "/inbox/messages/delete", htmx: bool = True, **fields):
    """Delete (or move) `subject` from the reading pane's own form, the open message being that one."""
    message = rows(app)[subject]
    return client.post(path, {"ids": message.id, "folder": message.folder_id, "open": message.id, **fields},
                       htmx=htmx)


@pytest.mark.parametrize(("sort", "following"), [("date-desc", "Möte två"), ("date-asc", "Möte fyra")])
def test_the_next_message_follows_the_lists_order_as_the_page_sends_it(inbox, app, sort, following):
    response = move(inbox, app, "Avtal tre", sort=sort)
    assert pane(response) == (following, True)
    url = urlsplit(response.headers["HX-Replace-Url"])
    assert parse_qs(url.query)["message"] == [str(rows(app)[following].id)]  # Back and reload know it
    assert parse_qs(url.query).get("sort") == (None if sort == "date-desc" else [sort])
    link = re.search(rf'<li class="message[^"]*" id="m-{rows(app)[following].id}".*?<a [^>]*>',
                     response.get_data(as_text=True), re.S).group(0)
    assert " autofocus" in link, "the next row gets the focus, for the keyboard"


def test_a_search_leaves_out_what_it_does_not_show_and_the_last_goes_back_to_the_one_before(inbox, app):
    # searching "Avtal": Avtal tre, Avtal ett; the next in the whole folder (Möte två) is not in the list
    assert pane(move(inbox, app, "Avtal tre", q="Avtal")) == ("Avtal ett", True)
    assert pane(move(inbox, app, "Avtal ett")) == ("Möte två", True)  # the oldest: the one before it
    assert pane(move(inbox, app, "Möte två", sort="date-asc", q="Möte")) == ("Möte fyra", True)
    response = move(inbox, app, "Möte fyra", sort="date-asc", q="Möte")
    assert pane(response) == (None, True)  # nothing left in the list: the pane says so
    assert "message=" not in response.headers["HX-Replace-Url"] and "q=M" in response.headers["HX-Replace-Url"]


def test_the_next_is_one_of_the_rows_the_list_shows_never_one_not_scrolled_to(app, lab, mailbox):
    client = connected(app, mailbox)
    lab.bulk_load(mailbox.address, 60, seed=3)
    client.post("/inbox/refresh")
    page = client.get("/inbox/").get_data(as_text=True)
    shown = re.findall(r'<li class="message[^"]*" id="m-(\d+)"', page)
    through = parse_qs(urlsplit(re.search(r'id="m-more" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
                                ).query)["after"][0]
    assert len(shown) == 50  # the first page; more come as the list is scrolled
    last = int(shown[-1])
    response = client.post("/inbox/messages/delete", {"ids": last, "folder": folder_id(app, "INBOX"), "open": last,
                                                       "through": through})
    assert re.search(r'<article id="reading"[^>]*data-message="(\d+)"', response.get_data(as_text=True)).group(1) \
        == shown[-2]  # the one before it: the one after it is not in the list yet


def test_the_pane_stays_when_its_message_does_not_move(inbox, app, lab, mailbox):
    open_one, other = rows(app)["Avtal tre"], rows(app)["Avtal ett"]
    # the list's own buttons move the picked ones: the open message is not among them
    response = inbox.post("/inbox/messages/delete", {"ids": other.id, "folder": other.folder_id, "open": open_one.id})
    assert "Message deleted." in text(response)
    assert 'id="reading"' not in response.get_data(as_text=True) and "HX-Replace-Url" not in response.headers

    lab.create_folder(mailbox.address, "Tillfällig")
    inbox.post("/inbox/refresh")
    target = folder_id(app, "Tillfällig")
    lab.delete_folder(mailbox.address, "Tillfällig")  # gone on the server: the move is refused
    response = move(inbox, app, "Avtal tre", path="/inbox/messages/move", target=target)
    assert "The server refused the change, so nothing was changed" in text(response)
    assert 'id="reading"' not in response.get_data(as_text=True) and "HX-Replace-Url" not in response.headers
    assert "Avtal tre" in server_flags(lab, mailbox.address)


def test_a_bulk_move_with_the_open_message_among_the_picked_goes_on_past_them(inbox, app):
    picked = [rows(app)[s].id for s in ("Möte fyra", "Avtal tre", "Möte två")]
    response = inbox.post("/inbox/messages/move", {"ids": picked, "folder": rows(app)["Avtal tre"].folder_id,
                                                    "open": rows(app)["Avtal tre"].id,
                                                    "target": folder_id(app, "Archive")})
    assert pane(response) == ("Avtal ett", True)


def test_without_javascript_the_page_after_a_delete_shows_the_next_message(inbox, app):
    response = move(inbox, app, "Möte två", htmx=False)
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
    assert pane(response) == ("Avtal ett", False)  # the whole page, with the pane in its place


def test_after_a_move_by_keyboard_the_next_message_is_open_and_its_row_has_the_focus(
        app, lab, mailbox, inbox_page):
    page = dated_page(app, lab, mailbox, inbox_page)
    subjects = page.locator("#message-list .message .subject").all_inner_texts()
    assert subjects[3:] == ["Möte fyra", "Avtal tre", "Möte två", "Avtal ett"]
    page.locator("#message-list .message a", has_text="Avtal tre").click()
    expect(page.locator("#reading h2")).to_have_text("Avtal tre")
    page.locator("#reading h2").click()  # the focus on the message, not in the list
    page.keyboard.press("#")
    expect(page.locator("#toast")).to_contain_text("Message deleted.")
    expect(page.locator("#reading h2")).to_have_text("Möte två")
    row = page.locator("#message-list .message", has_text="Möte två")
    expect(row).to_have_class("message selected")
    expect(row.locator("a")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"[?&]message={rows(app)['Möte två'].id}(&|$)"))

    page.keyboard.press("e")  # Archive, with the focus where the move left it
    expect(page.locator("#toast")).to_contain_text("Moved to Archive.")
    expect(page.locator("#reading h2")).to_have_text("Avtal ett")
    expect(page.locator("#message-list .message", has_text="Avtal ett").locator("a")).to_be_focused()

    page.keyboard.press("#")  # the last one: the pane goes back to the one before it
    expect(page.locator("#reading h2")).to_have_text("Möte fyra")
    page.locator("#toast").get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator("#message-list")).to_contain_text("Avtal ett")  # Undo restores it to the list
    expect(page.locator("#reading h2")).to_have_text("Möte fyra")  # and leaves the pane as it is


def test_the_list_buttons_send_the_open_message_too(app, lab, mailbox, inbox_page):
    page = dated_page(app, lab, mailbox, inbox_page)
    page.locator("#message-list .message a", has_text="Avtal tre").click()
    expect(page.locator("#reading h2")).to_have_text("Avtal tre")
    for subject in ("Avtal tre", "Möte två"):  # picked with Ctrl-click, the open one among them
        page.locator("#message-list .message a", has_text=subject).click(modifiers=["Control"])
    page.locator("#bulk").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("2 messages deleted.")
    expect(page.locator("#reading h2")).to_have_text("Avtal ett")


def test_on_a_phone_the_next_message_has_the_screen_and_the_last_gives_it_back_to_the_list(
        inbox_page):
    page = inbox_page("sv", {"width": 390, "height": 844})
    list_pane, reading = page.locator(".list-pane"), page.locator("#reading")
    subjects = page.locator("#message-list .message .subject").all_inner_texts()
    page.locator("#message-list .message a").nth(1).click()
    expect(list_pane).to_be_hidden()
    reading.get_by_role("button", name="Ta bort", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("Meddelandet har tagits bort.")
    expect(reading.get_by_role("heading", level=2)).to_have_text(subjects[2])  # the next, on the whole screen
    expect(list_pane).to_be_hidden()
    reading.get_by_role("button", name="Ta bort", exact=True).click()  # the last: the one before it
    expect(reading.get_by_role("heading", level=2)).to_have_text(subjects[0])
    reading.get_by_role("button", name="Ta bort", exact=True).click()  # none left: the list again
    expect(list_pane).to_be_visible()
    expect(reading.get_by_role("heading", level=2)).to_have_count(0)
    expect(page.locator("#message-list")).to_contain_text("Det finns inga meddelanden i den här mappen.")
