"""Marking, moving and subscribing, written to the real Dovecot and seen by a second client; and the
other way round."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailcore.models import Folder

from .browser import serve, sign_in, wait_for_htmx
from .helpers import Browser, connected, folder_id, make_user, message, rows, server_flags, text


@pytest.fixture
def inbox(app, lab, mailbox):
    return connected(app, mailbox)


def test_mark_read_and_unread_reach_the_server(inbox, app, lab, mailbox):
    offer = rows(app)["Meeting notes"]
    assert offer.seen
    assert inbox.post("/inbox/messages/seen", {"ids": offer.id, "seen": "0"}).status_code == 200
    assert b"\\Seen" not in server_flags(lab, mailbox.address)["Meeting notes"]
    assert not rows(app)["Meeting notes"].seen
    both = [rows(app)["Offert för våren"].id, rows(app)["Meeting notes"].id]
    inbox.post("/inbox/messages/seen", {"ids": both, "seen": "1"})
    flags = server_flags(lab, mailbox.address)
    assert b"\\Seen" in flags["Meeting notes"] and b"\\Seen" in flags["Offert för våren"]
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(Folder.unread).where(Folder.name == "INBOX")) == 1


def test_move_to_folder_reaches_the_server(inbox, app, lab, mailbox):
    moved = rows(app)["Offert för våren"]
    response = inbox.post("/inbox/messages/move", {"ids": moved.id, "target": folder_id(app, "Archive")})
    assert response.status_code == 200 and "Offert för våren" not in text(response)
    assert "Offert för våren" not in server_flags(lab, mailbox.address)
    assert "Offert för våren" in server_flags(lab, mailbox.address, "Archive")
    assert "Offert för våren" in rows(app, "Archive")  # the next sync brought it into Archive here


def test_a_refused_move_says_so_and_changes_nothing(inbox, app, lab, mailbox):
    lab.create_folder(mailbox.address, "Tillfällig")
    inbox.post("/inbox/refresh")
    target = folder_id(app, "Tillfällig")
    lab.delete_folder(mailbox.address, "Tillfällig")  # gone on the server, still listed here
    kept = rows(app)["Meeting notes"]
    response = inbox.post("/inbox/messages/move", {"ids": kept.id, "target": target})
    assert "The server refused the change, so nothing was changed" in text(response)
    assert "Meeting notes" in server_flags(lab, mailbox.address)
    assert "Meeting notes" in rows(app)


def test_changes_made_elsewhere_are_seen_here_after_the_next_sync(inbox, app, lab, mailbox):
    lab.set_flags(mailbox.address, "INBOX", [rows(app)["Offert för våren"].uid], [b"\\Seen"])
    inbox.post("/inbox/refresh")
    assert rows(app)["Offert för våren"].seen


def test_every_action_needs_the_csrf_token(inbox, app, mailbox):
    target = folder_id(app, "Archive")
    some = rows(app)["Meeting notes"].id
    for url, data in (("/inbox/messages/seen", {"ids": some, "seen": "0"}),
                      ("/inbox/messages/move", {"ids": some, "target": target}),
                      (f"/inbox/folders/{target}/subscribe", {}),
                      ("/inbox/refresh", {})):
        assert inbox.post(url, data, csrf=False).status_code == 400, url
    assert rows(app)["Meeting notes"].seen


def test_mark_as_read_in_preview_is_honoured(inbox, app, lab, mailbox):
    unread = rows(app)["Offert för våren"]
    inbox.post("/settings/email-options", {"save_sent_copy": "y"})  # Mark as read in preview off
    inbox.get(f"/inbox/message/{unread.id}", htmx=True)
    assert b"\\Seen" not in server_flags(lab, mailbox.address)["Offert för våren"]
    inbox.post("/settings/email-options", {"mark_read_in_preview": "y"})
    inbox.get(f"/inbox/message/{unread.id}", htmx=True)
    assert b"\\Seen" in server_flags(lab, mailbox.address)["Offert för våren"]


def test_an_unsubscribed_folder_is_greyed_until_subscribed(inbox, app, lab, mailbox):
    lab.create_folder(mailbox.address, "Gamla projekt", subscribe=False)
    lab.append(mailbox.address, message("Från arkivet"), folder="Gamla projekt")
    inbox.post("/inbox/refresh")
    page = inbox.get("/inbox/").get_data(as_text=True)
    folder = folder_id(app, "Gamla projekt")
    assert f"/inbox/folders/{folder}/subscribe" in page and "Subscribe" in page
    assert rows(app, "Gamla projekt") == {}  # not synchronised while unsubscribed
    assert inbox.post(f"/inbox/folders/{folder}/subscribe").status_code == 204
    with lab.imap(mailbox.address) as client:
        assert "Gamla projekt" in [name for _f, _d, name in client.list_sub_folders()]
    assert "Från arkivet" in rows(app, "Gamla projekt")


def test_remote_images_only_when_allowed(inbox, app, lab, mailbox):
    from email.message import EmailMessage

    item = EmailMessage()
    item["From"] = "News <news@shop.example>"
    item["Subject"] = "Nyhetsbrev"
    item.set_content("text")
    item.add_alternative('<p>Hej</p><img src="https://images.shop.example/hero.png" alt="hero">', subtype="html")
    lab.append(mailbox.address, item)
    inbox.post("/inbox/refresh")
    news = rows(app)["Nyhetsbrev"]
    blocked = inbox.get(f"/inbox/message/{news.id}", htmx=True).get_data(as_text=True)
    assert "images.shop.example" not in blocked and "are blocked in this message" in text(
        inbox.get(f"/inbox/message/{news.id}", htmx=True))
    allowed = inbox.get(f"/inbox/message/{news.id}?remote=1", htmx=True).get_data(as_text=True)
    assert "images.shop.example/hero.png" in allowed and "img-src" in allowed and "https:" in allowed
    inbox.post("/settings/email-options", {"show_inline_images": "y"})
    assert "images.shop.example/hero.png" in inbox.get(f"/inbox/message/{news.id}", htmx=True).get_data(as_text=True)


def test_ctrl_click_multi_select_and_bulk_buttons_in_chromium(app, lab, mailbox, chromium):
    make_user(app, mailbox.address)
    setup = Browser(app.test_client())
    setup.sign_in(mailbox.address, "crm-password-1")
    setup.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    with serve(app) as base:
        page = chromium.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, base, mailbox.address, "crm-password-1",
                {"user": "User name", "password": "Password", "sign_in": "Sign in"})
        unread = page.locator(".message.unread a")
        assert unread.count() == 2
        unread.nth(0).click(modifiers=["Control"])
        unread.nth(1).click(modifiers=["Control"])
        assert page.locator(".pick:checked").count() == 2
        assert page.get_by_role("button", name="Mark as read", exact=True).is_visible()
        page.get_by_role("button", name="Mark as read", exact=True).click()
        wait_for_htmx(page)
        page.wait_for_function("() => document.querySelectorAll('.message.unread').length === 0")
        assert page.locator("#reading .placeholder").is_visible()  # Ctrl-click opened nothing
    assert errors == []
    assert all(b"\\Seen" in flags for flags in server_flags(lab, mailbox.address).values())
