"""The formatted signature with a logo: written in Personal settings with the editor, the logo checked
and kept in the database, and sent as an inline image (multipart/related, by Content-ID) that the
message at the real SMTP server carries; the logo's address answers only its owner."""

from __future__ import annotations

import email
import email.policy
import io
import struct
import zlib

import pytest

from .helpers import Browser, connected, make_user, received, text


def png(width: int = 120, height: int = 40) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x0a\x6e\xbd" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def logo_url(client) -> str:
    page = client.get("/settings/personal").get_data(as_text=True)
    start = page.index('src="/settings/signature-logo/') + 5
    return page[start:page.index('"', start)]


def test_a_logo_is_checked_kept_and_shown_only_to_its_owner(app, lab, mailbox):
    client = connected(app, mailbox)
    for refused in (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
                    b"GIF89a" + b"\x00" * 300_000, b"not an image at all"):
        response = client.post("/settings/signature-logo", {"logo": (io.BytesIO(refused), "logo.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 422 and "PNG, JPEG or GIF image of at most 200 kB" in text(response)
    response = client.post("/settings/signature-logo", {"logo": (io.BytesIO(png()), "logo.png")},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 204, 302, 303), text(response)
    url = logo_url(client)
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "image/png" and answer.data == png()
    assert "private" in answer.headers["Cache-Control"] and answer.headers["X-Content-Type-Options"] == "nosniff"

    make_user(app, "kollega@crm.example", name="Kollega")
    stranger = Browser(app.test_client())
    stranger.sign_in("kollega@crm.example", "crm-password-1")
    assert stranger.get(url).status_code == 404  # another user's logo, even with its address
    assert Browser(app.test_client()).get(url).status_code in (302, 401)  # no session

    assert client.post("/settings/signature-logo/remove", {}).status_code in (200, 204, 302, 303)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_signature_and_its_logo_arrive_inline(app, lab, mailbox, inbox_page, lang):
    from playwright.sync_api import expect

    words = {"sv": {"Signature": "Signatur", "Save": "Spara", "Logo": "Logotyp", "Upload logo": "Ladda upp logotyp",
                    "Bold": "Fetstil", "New": "Nytt e-postmeddelande", "Message": "Meddelande", "To": "Till",
                    "Subject": "Ämne", "Send": "Skicka"},
             "en": {"Signature": "Signature", "Save": "Save", "Logo": "Logo", "Upload logo": "Upload logo",
                    "Bold": "Bold", "New": "New", "Message": "Message", "To": "To", "Subject": "Subject",
                    "Send": "Send"}}[lang]
    page = inbox_page(lang)
    lab.received.clear()
    page.goto(page.url.split("/inbox")[0] + "/settings/personal")
    signature = page.get_by_role("textbox", name=words["Signature"])
    signature.click()
    page.keyboard.type("Anna Andersson")
    page.keyboard.press("Enter")
    page.keyboard.type("Kund & Co AB")
    page.keyboard.press("Shift+Home")
    page.get_by_role("button", name=words["Bold"]).first.click()
    page.get_by_role("button", name=words["Save"], exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_label(words["Logo"], exact=True).set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png()}])
    page.get_by_role("button", name=words["Upload logo"]).click()
    expect(page.locator("img.logo-preview")).to_be_visible()

    page.goto(page.url.split("/settings")[0] + "/inbox/")
    page.get_by_role("link", name=words["New"], exact=True).click()
    editor = page.get_by_role("textbox", name=words["Message"])
    expect(editor.locator("b", has_text="Kund & Co AB")).to_be_visible()
    expect(editor.locator("img")).to_have_js_property("naturalWidth", 120)  # the logo shows while writing
    page.get_by_label(words["To"], exact=True).fill("kund@example.test")
    page.get_by_label(words["Subject"], exact=True).fill(f"Med logotyp {lang}")
    editor.locator("div").first.click()
    page.keyboard.type("Hej!")
    page.get_by_role("button", name=words["Send"], exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    [sent] = received(lab, f"Med logotyp {lang}")
    parsed = email.message_from_bytes(sent.data, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.startswith("Hej!\n") and "\n-- \nAnna Andersson\nKund & Co AB\n" in plain
    related = parsed.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content() and "/settings/signature-logo" not in html_part.get_content()
    assert "<b>Kund &amp; Co AB</b>" in html_part.get_content()
    assert image.get_content_type() == "image/png" and image.get_payload(decode=True) == png()


HOSTILE = ('<div onmouseover="steal()">Hej<script>alert(1)</script></div><img src="https://tracker.example/p.gif">'
           '<img src="/settings/signature-logo/0000"><a href="javascript:alert(1)">klicka</a>'
           '<span style="background:url(https://tracker.example/css)">x</span><iframe src="https://x.example"></iframe>')


def _clean(html: str) -> None:
    for bad in ("script", "onmouseover", "tracker", "javascript", "iframe", "/settings/signature-logo", "url("):
        assert bad not in html, bad


def test_what_the_browser_posts_is_cleaned_before_it_is_kept_or_sent(app, lab, mailbox):
    """Never trusted from the browser: the signature's and the message's HTML go through the server's
    rules, so neither can make a recipient (or the server) fetch anything or run anything."""
    from mailcore.models import User

    client = connected(app, mailbox)
    response = client.post("/settings/personal", {"language": "en", "signature": "", "signature_html": HOSTILE,
                                                  "timezone": "UTC"})
    assert response.status_code == 204, text(response)
    with app.extensions["mail"].sessions() as db:
        kept = db.query(User).filter_by(email=mailbox.address).one()
        _clean(kept.signature_html)
        assert "Hej" in kept.signature_html and kept.signature.startswith("Hej")
    lab.received.clear()
    response = client.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Städat", "body": "",
                                               "html": HOSTILE})
    assert response.status_code == 204, text(response)
    [sent] = received(lab, "Städat")
    parsed = email.message_from_bytes(sent.data, policy=email.policy.default)
    _clean(parsed.get_body(("html",)).get_content())
    assert [part.get_content_type() for part in parsed.walk()] == ["multipart/alternative", "text/plain", "text/html"]
