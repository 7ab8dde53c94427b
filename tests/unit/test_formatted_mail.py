"""Formatted mail without a server: what the editor's HTML may carry, the plain text beside it, the
MIME structure on the wire, replies that quote a formatted original, and template fields."""

from __future__ import annotations

import email
import email.policy

from mailcore.compose import rich
from mailcore.compose.message import Draft, Inline, answer, build_message, draft_message
from mailcore.reading.render import sanitize_html

ME = "anna@inkorg.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_only_what_the_reading_pane_keeps_is_sent():
    posted = ('<div onclick="steal()">Hej <b>Åsa</b><script>alert(1)</script></div>'
              '<a href="javascript:alert(1)">js</a><a href="https://kund.example/offert">offert</a>'
              '<a href="mailto:karin@kund.example">Karin</a><a href="/relative">rel</a>'
              '<img src="https://tracker.example/pixel.gif"><img src="data:image/png;base64,AAAA">'
              '<img src="cid:logo" alt="Logo"><img src="cid:someone-elses">'
              '<span style="color:red;background:url(https://tracker.example/x)">röd</span>'
              '<p style="color:#333;font-size:18px">stor</p><iframe src="https://x.example"></iframe>')
    sent = rich.clean(posted, frozenset({"logo"}))
    assert "script" not in sent and "onclick" not in sent and "alert" not in sent and "iframe" not in sent
    assert "javascript" not in sent and "/relative" not in sent and "tracker" not in sent and "data:" not in sent
    assert '<a href="https://kund.example/offert">offert</a>' in sent
    assert '<a href="mailto:karin@kund.example">Karin</a>' in sent
    assert '<img src="cid:logo" alt="Logo">' in sent and "someone-elses" not in sent
    assert "js" in sent and "rel" in sent  # a refused link keeps its text
    assert '<p style="color:#333;font-size:18px">stor</p>' in sent
    # nothing the recipient's preview (the same rules) would strip: it comes back unchanged
    shown, removed = sanitize_html(sent, allow_remote=False, cid_url=lambda cid: f"cid:{cid}")
    assert not removed
    assert shown.replace(' rel="noopener noreferrer"', "").replace(' target="_blank"', "") == sent


def test_word_paste_keeps_its_text_and_formatting_but_not_its_office_markup():
    pasted = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><xml><o:OfficeDocumentSettings>'
              '<o:AllowPNG/></o:OfficeDocumentSettings></xml><style>p.MsoNormal{margin:0}</style></head><body>'
              '<!--[if gte mso 9]>conditional<![endif]-->'
              '<p class="MsoNormal" style="mso-line-height-alt:12pt;margin:0cm"><b>Offert</b> nr 12<o:p></o:p></p>'
              '<ul style="margin-top:0cm" type="disc"><li class="MsoListParagraph" style="mso-list:l0 level1 lfo1">'
              'Rad ett</li></ul></body></html>')
    sent = rich.clean(pasted)
    assert "mso" not in sent.lower() and "class=" not in sent and "o:p" not in sent and "conditional" not in sent
    assert "AllowPNG" not in sent and "p.MsoNormal" not in sent
    assert "<b>Offert</b> nr 12" in sent and "<li" in sent and "Rad ett" in sent
    assert rich.plain_text(sent) == "Offert nr 12\n- Rad ett\n"


def test_the_plain_text_part_is_faithful():
    html = ('<div>Hej <b>Åsa</b>,</div><div><br></div><div>Se <a href="https://kund.example/o">offerten</a> och '
            '<a href="https://kund.example/">https://kund.example/</a>.</div><ul><li>ett</li><li>två<ul><li>a</li>'
            '</ul></li></ul><ol><li>första</li><li>andra</li></ol><blockquote><div>citat</div><div>rad 2</div>'
            '</blockquote><div>Mvh<br>Anna</div>')
    assert rich.plain_text(html) == (
        "Hej Åsa,\n\nSe offerten <https://kund.example/o> och https://kund.example/.\n- ett\n- två\n   - a\n"
        "1. första\n2. andra\n\n> citat\n> rad 2\nMvh\nAnna\n")
    assert rich.plain_text("<div><br></div>") == "" and rich.is_blank("<div><br></div><p> </p>")
    assert not rich.is_blank('<img src="cid:logo">')


def _parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(policy=email.policy.SMTP), policy=email.policy.default)


def _text(part) -> str:
    return part.get_content().replace("\r\n", "\n")


def test_formatted_mail_goes_out_as_alternative_with_its_inline_logo_related():
    draft = Draft(to="karin@kund.example", subject="Offert",
                  html='<div>Hej <b>Karin</b></div><div>-- </div><div><img src="cid:logo.1@inkorg" alt="Logo"></div>',
                  body="ignored: the text is written from the HTML", inline=[Inline("logo.1@inkorg", "image/png", PNG)])
    draft.attachments = []
    message, recipients = build_message("Anna", ME, draft)
    got = _parsed(message)
    assert recipients == ["karin@kund.example"]
    assert got.get_content_type() == "multipart/alternative"
    plain, related = got.get_payload()
    assert plain.get_content_type() == "text/plain" and _text(plain) == "Hej Karin\n-- \n[Logo]\n"
    assert related.get_content_type() == "multipart/related"
    html_part, logo = related.get_payload()
    assert html_part.get_content_type() == "text/html" and "<b>Karin</b>" in html_part.get_content()
    assert logo.get_content_type() == "image/png" and logo["Content-ID"] == "<logo.1@inkorg>"
    assert logo.get_payload(decode=True) == PNG and logo.get_content_disposition() == "inline"


def test_a_plain_window_stays_plain_and_an_empty_editor_sends_text():
    plain = _parsed(build_message("Anna", ME, Draft(to="k@kund.example", body="Hej\n"))[0])
    assert plain.get_content_type() == "text/plain"
    empty = _parsed(build_message("Anna", ME, Draft(to="k@kund.example", body="Hej", html="<div><br></div>"))[0])
    assert empty.get_content_type() == "text/plain" and _text(empty) == "Hej\n"


def test_an_image_the_html_does_not_show_is_not_sent_and_a_draft_keeps_its_formatting():
    draft = Draft(to="k@kund.example", html="<div><i>kursiv</i></div>", inline=[Inline("x@y", "image/png", PNG)])
    got = _parsed(draft_message("Anna", ME, draft))
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert "<i>kursiv</i>" in got.get_body(preferencelist=("html",)).get_content()


FORMATTED = b"""From: Karin Berg <karin@kund.example>
To: anna@inkorg.test
Subject: Offert
Message-ID: <o1@kund.example>
Date: Mon, 16 Jun 2025 09:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/related; boundary="r"

--r
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=utf-8

Priset: 100 kr
--a
Content-Type: text/html; charset=utf-8

<html><head><style>body{color:red}</style></head><body><p style="color:#060">Priset: <b>100 kr</b></p>
<img src="cid:stamp@kund"><img src="https://tracker.example/p.gif"><script>x()</script></body></html>
--a--
--r
Content-Type: image/png
Content-ID: <stamp@kund>
Content-Disposition: inline

iVBORw0KGgo=
--r--
""".replace(b"\n", b"\r\n")


def test_a_reply_quotes_a_formatted_original_as_it_looked():
    draft = answer(FORMATTED, "reply", ME, "Priset: 100 kr", lambda when, who: f"{who} skrev:")
    assert draft.html.startswith("<div><br></div><div>Karin Berg skrev:</div><blockquote")
    assert '<p style="color:#060">Priset: <b>100 kr</b></p>' in draft.html
    assert "<img" not in draft.html and draft.inline == []  # its inline images stay with it
    assert "tracker" not in draft.html and "script" not in draft.html and "body{" not in draft.html
    assert draft.body.endswith("> Priset: 100 kr\n")  # the text for a window without the editor
    forwarded = answer(FORMATTED, "forward", ME, "Priset: 100 kr", forwarded=lambda f: "--- Vidarebefordrat ---")
    assert "<div>--- Vidarebefordrat ---</div>" in forwarded.html and "blockquote" not in forwarded.html


def test_a_plain_original_leaves_the_reply_plain():
    plain = b"From: k@kund.example\r\nSubject: Hej\r\nMessage-ID: <p@k>\r\n\r\nHej\r\n"
    assert answer(plain, "reply", ME, "Hej").html == ""


def test_template_fields_are_filled_escaped_and_an_empty_one_leaves_no_trace():
    template = "<div>Hej [[contact.first_name]],</div><div>[[contact.full_name]] på [[ contact.company ]]</div>" \
               "<div>[[me.name]] [[me.title]] [[me.phone]]</div><div>[[unknown.field]]</div>"
    values = {"contact.first_name": "", "contact.full_name": "Karin <Berg>", "contact.company": "Kund & Co",
              "me.name": "Anna", "me.title": None, "me.phone": "08-123"}
    filled = rich.fill(template, values)
    assert filled == ("<div>Hej,</div><div>Karin &lt;Berg&gt; på Kund &amp; Co</div><div>Anna 08-123</div>"
                      "<div></div>")
    assert "[[" not in filled
    assert rich.fill("[[contact.first_name]] Berg", {}) == "Berg"
