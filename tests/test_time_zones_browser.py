"""Times in the user's zone in a real Chromium against the real Dovecot: the browser's zone is kept on
its first visit, and a message of 23:23 UTC is the next day at 00:23 for a user in Stockholm."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from mailcore.models import User

from .browser import DESKTOP, LOCALES, SIGN_IN, TIMEOUT, WatchedPages, sign_in
from .helpers import connected, make_user, message

STOCKHOLM = "Europe/Stockholm"


@pytest.fixture
def pages(chromium):
    watched = WatchedPages(chromium, TIMEOUT)
    yield watched
    watched.close()


def zone_of(app, email: str) -> str | None:
    with app.extensions["mail"].sessions() as db:
        return db.query(User).filter_by(email=email).one().timezone


def test_a_browser_in_stockholm_has_its_zone_kept_on_its_first_visit(app, base_url, pages, mailbox):
    make_user(app, mailbox.address)
    assert zone_of(app, mailbox.address) is None
    page = pages.open(locale=LOCALES["en"], viewport=DESKTOP, timezone_id=STOCKHOLM)
    sign_in(page, base_url, mailbox.address, "crm-password-1", SIGN_IN["en"])
    assert zone_of(app, mailbox.address) == STOCKHOLM  # it came with the sign-in form
    expect(page.locator("body[data-zone-report]")).to_have_count(0)  # the first page already knew it


def test_a_signed_in_browser_reports_its_zone_when_the_user_has_none(app, base_url, pages, mailbox):
    """A user signed in before zones were kept (or whose sign-in carried none): the page reports it once."""
    make_user(app, mailbox.address)
    page = pages.open(locale=LOCALES["en"], viewport=DESKTOP, timezone_id=STOCKHOLM)
    dropped = []

    def without_zone(route):  # the sign-in form goes without the zone app.js filled in
        body = route.request.post_data or ""
        if "zone=Europe%2FStockholm" in body:
            dropped.append(body)
        route.continue_(post_data=body.replace("zone=Europe%2FStockholm", "zone="))

    page.route("**/signin", without_zone)
    sign_in(page, base_url, mailbox.address, "crm-password-1", SIGN_IN["en"])
    assert dropped
    deadline = time.monotonic() + 10
    while zone_of(app, mailbox.address) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert zone_of(app, mailbox.address) == STOCKHOLM
    page.goto(base_url + "/settings/personal")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value(STOCKHOLM)


def test_a_message_of_2323_utc_is_the_next_day_at_0023_in_stockholm(app, lab, base_url, pages, mailbox):
    """Through the list and the reading pane; the user's choice wins over a browser that says UTC."""
    late = datetime(2026, 11, 20, 23, 23, tzinfo=UTC)
    now = datetime.now(UTC)
    last_night = datetime.combine(now.date() - timedelta(days=1), datetime.min.time(), UTC).replace(hour=23, minute=23)
    for subject, when in (("Sent late in November", late), ("Sent last night", last_night)):
        item = message(subject)
        item["Date"] = format_datetime(when)
        lab.append(mailbox.address, item, date=when)
    client = connected(app, mailbox)
    response = client.post("/settings/personal", {"language": "en", "signature": "", "timezone": STOCKHOLM})
    assert response.status_code == 204

    page = pages.open(locale=LOCALES["en"], viewport=DESKTOP, timezone_id="UTC")
    sign_in(page, base_url, mailbox.address, "crm-password-1", SIGN_IN["en"])
    row = page.locator("#message-list .message", has_text="Sent late in November")
    expect(row.locator("time.date")).to_have_text("21 Nov")
    # last night's 23:23 UTC is today at 00:23 in Stockholm (unless Stockholm has moved on a day already)
    local_now, local = now.astimezone(ZoneInfo(STOCKHOLM)), last_night.astimezone(ZoneInfo(STOCKHOLM))
    expected = "00:23" if local.date() == local_now.date() else f"{local.day} {local.strftime('%b')}"
    expect(page.locator("#message-list .message", has_text="Sent last night").locator("time.date")) \
        .to_have_text(expected)

    row.locator("[data-select]").click()
    expect(page.locator("#reading time")).to_have_text("21 Nov 2026, 00:23")
    assert zone_of(app, mailbox.address) == STOCKHOLM  # the browser's UTC did not replace the choice
