"""The mail server goes away in the middle of a session, in a real Chromium against the lab's Dovecot
(stopped and started again): one calm status line within seconds, the stored mail still shown, actions
that change nothing and say so, a message that failed to load with Try again, and a sent mail's copy
kept and filed in Sent once the server is back."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .axe import serious_violations
from .browser import DESKTOP, PHONE, wait_for_htmx
from .helpers import received

expect.set_options(timeout=10_000)

WORDS = {
    "en": {"refresh": "Refresh", "again": "Try again", "reach": "Cannot reach {host}. Trying again in 30 s.",
           "why": "Why is the email list not updated?", "new": "New email", "to": "To", "subject": "Subject",
           "send": "Send", "kept": "The copy could not be put in Sent yet", "delete": "Delete",
           "nothing": " cannot be reached, so nothing was changed", "fetch": "The message could not be fetched",
           "sent": "Sent"},
    "sv": {"refresh": "Uppdatera", "again": "Försök igen", "reach": "Kan inte nå {host}. Försöker igen om 30 s.",
           "why": "Varför uppdateras inte e-postlistan?", "new": "Nytt e-postmeddelande", "to": "Till",
           "subject": "Ämne", "send": "Skicka", "kept": "Kopian kunde inte läggas i Skickat än", "delete": "Ta bort",
           "nothing": ", så ingenting ändrades", "fetch": "Meddelandet kunde inte hämtas", "sent": "Skickat"},
}


def copies_in_sent(lab, address: str, subject: str) -> int:
    with lab.imap(address) as client:
        client.select_folder("Sent", readonly=True)
        return len(client.search(["SUBJECT", subject]))


@pytest.mark.parametrize(("lang", "viewport"), [("en", DESKTOP), ("sv", PHONE)], ids=["en-desktop", "sv-phone"])
def test_the_server_stopped_and_started_again_mid_session(app, inbox_page, lab, mailbox, lang, viewport):
    words = WORDS[lang]
    page = inbox_page(lang, viewport)
    rows = page.locator("#message-list .message")
    expect(rows).to_have_count(3)
    status = page.locator("#account-state").get_by_role("status")
    subject = f"Medan servern var borta {lang}"
    lab.stop_imap()
    try:
        page.get_by_role("button", name=words["refresh"], exact=True).click()
        expect(status).to_contain_text(words["reach"].format(host=lab.hostname).split(".")[0])
        # what a screen reader is told, once: the countdown the eye sees is hidden from it
        expect(status).to_match_aria_snapshot(f'- status:\n  - paragraph: {words["reach"].format(host=lab.hostname)}\n'
                                              f'  - button "{words["again"]}"')
        expect(rows).to_have_count(3)  # what is stored stays shown
        expect(page.get_by_text(words["why"])).to_have_count(0)  # no alarm, no talk of SSL, ports or passwords
        expect(page.locator("#account-state")).not_to_contain_text(re.compile("SSL|port|password|lösenord"))

        page.get_by_role("link", name="New" if lang == "en" else words["new"], exact=True).click()
        dialog = page.get_by_role("dialog", name=words["new"])
        dialog.get_by_label(words["to"], exact=True).fill("kund@example.test")
        dialog.get_by_label(words["subject"], exact=True).fill(subject)
        dialog.get_by_role("button", name=words["send"], exact=True).click()
        expect(page.locator("#toast")).to_contain_text(words["kept"])
        assert len(received(lab, subject)) == 1  # the mail went out
        rows.filter(has_text="Meeting notes").locator(".pick").check()  # a move to Trash changes nothing, and says so
        page.locator("#bulk").get_by_role("button", name=words["delete"], exact=True).click()
        expect(page.locator("#listing .problem")).to_contain_text(lab.hostname + words["nothing"])
        expect(rows.filter(has_text="Meeting notes")).to_be_visible()
        rows.filter(has_text="Meeting notes").locator(".pick").uncheck()
        assert serious_violations(page) == []  # the status line and the refusal, as axe reads them
        rows.filter(has_text="Återkoppling").locator("a").click()  # never opened: not stored yet
        pane = page.locator("#reading")
        expect(pane).to_contain_text(words["fetch"])
        retry = pane.get_by_role("button", name=words["again"], exact=True)
        expect(retry).to_be_visible()

    finally:
        lab.start_imap()

    retry.click()  # the message that failed to load
    expect(pane).to_contain_text("Hej!")
    if viewport == PHONE:
        pane.locator("[data-back]").click()  # the list, where the status line is
    status.get_by_role("button", name=words["again"], exact=True).click()
    expect(status).to_be_empty()  # the server answers: the line is cleared (the live region stays)
    wait_for_htmx(page)
    assert copies_in_sent(lab, mailbox.address, subject) == 1  # filed by the sync, once
    page.get_by_role("button", name=words["refresh"], exact=True).click()
    wait_for_htmx(page)
    assert copies_in_sent(lab, mailbox.address, subject) == 1
