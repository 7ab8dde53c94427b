"""The list merges what the server sends (idiomorph, static/vendor) and keeps what the user did in it:
picked rows, a chosen folder, the focus, the open message's highlight. In a real Chromium against
the real Dovecot."""

from __future__ import annotations

from playwright.sync_api import expect

from .browser import wait_for_htmx


def test_a_merge_keeps_the_picked_rows_the_chosen_folder_and_the_focus(inbox_page):
    page = inbox_page("en")
    rows = page.locator("#message-list > li.message")
    rows.nth(0).locator("a").click()
    expect(page.locator("#reading h2")).to_be_visible()
    rows.nth(1).locator(".pick").check()
    page.locator("#bulk-target").select_option(label="Archive")
    rows.nth(2).locator("a").focus()
    page.evaluate("() => { window.keptRow = document.querySelector('#message-list > li.message'); }")
    with page.expect_response(lambda r: "/inbox/refresh" in r.url and r.status == 200):
        page.evaluate("() => htmx.trigger(document.querySelector(\"form[hx-post*='/refresh']\"), 'submit')")
    wait_for_htmx(page)

    assert page.evaluate("() => document.querySelector('#message-list > li.message') === window.keptRow"), \
        "rows are merged by id, not replaced"
    expect(rows.nth(1).locator(".pick")).to_be_checked()
    expect(page.locator("#bulk-target option:checked")).to_have_text("Archive")
    expect(rows.nth(2).locator("a")).to_be_focused()
    expect(rows.nth(0)).to_have_class("message selected")
