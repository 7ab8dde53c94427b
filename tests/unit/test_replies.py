"""Writing mail without a server: recipients read strictly, replies and forwards pre-filled as mail
programs do, and the message that would go on the wire."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

import pytest

from mailcore.compose.message import (
    Draft,
    InvalidHeader,
    InvalidRecipients,
    Upload,
    answer,
    build_message,
    draft_message,
    parse_recipients,
    prefixed,
    quote,
)

ME = "anna@inkorg.test"

ORIGINAL = b"""From: "Berg, Karin" <karin@kund.example>
To: anna@inkorg.test, Kollega <kollega@kund.example>
Cc: chef@kund.example, ANNA@INKORG.TEST, karin@kund.example
Subject: =?utf-8?q?Fr=C3=A5ga_om=0D=0Aleverans?=
Message-ID: <orig-1@kund.example>
References: <first@kund.example>
 <second@kund.example>
Date: Mon, 16 Jun 2025 09:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

N\xc3\xa4r kommer leveransen?
--b1
Content-Type: application/pdf; name="offert.pdf"
Content-Disposition: attachment; filename="../../offert.pdf"
Content-Transfer-Encoding: base64

JVBERi0=
--b1
Content-Type: image/png
Content-ID: <logo@kund.example>
Content-Disposition: inline

iVBORw0KGgo=
--b1--
""".replace(b"\n", b"\r\n")

TEXT = "När kommer leveransen?\nHälsningar Karin"


def swedish_intro(when: datetime | None, who: str) -> str:
    return f"Den {when:%Y-%m-%d %H:%M} skrev {who}:" if when else f"{who} skrev:"


def forward_block(fields: dict) -> str:
    return f"-- Vidarebefordrat --\nFrån: {fields['from']}\nDatum: {fields['date']:%Y-%m-%d %H:%M}"


def test_reply_goes_to_the_sender_with_re_the_quote_and_the_thread():
    draft = answer(ORIGINAL, "reply", ME, TEXT, swedish_intro)
    assert draft.to == '"Berg, Karin" <karin@kund.example>'
    assert draft.cc == "" and draft.bcc == ""
    assert draft.subject == "Re: Fråga om leverans"  # a decoded line break cannot reach the header
    assert draft.body == ("\n\nDen 2025-06-16 09:00 skrev Berg, Karin:\n"  # the writer's name, their date
                          "> När kommer leveransen?\n> Hälsningar Karin\n")
    assert draft.in_reply_to == "<orig-1@kund.example>"
    assert draft.references == "<first@kund.example> <second@kund.example> <orig-1@kund.example>"
    assert draft.attachments == []


def test_reply_all_copies_everyone_else_but_never_me_or_the_sender_twice():
    draft = answer(ORIGINAL, "all", ME.upper(), TEXT, swedish_intro)
    assert draft.to == '"Berg, Karin" <karin@kund.example>'
    assert draft.cc == "Kollega <kollega@kund.example>, chef@kund.example"


def test_forward_carries_the_attachments_but_no_recipient_or_thread():
    draft = answer(ORIGINAL, "forward", ME, TEXT, swedish_intro, forward_block)
    assert (draft.to, draft.cc, draft.in_reply_to, draft.references) == ("", "", "", "")
    assert draft.subject == "Fwd: Fråga om leverans"
    assert draft.body == ('\n\n-- Vidarebefordrat --\nFrån: "Berg, Karin" <karin@kund.example>\n'
                          "Datum: 2025-06-16 09:00\n\nNär kommer leveransen?\nHälsningar Karin\n")
    assert [(a.filename, a.content_type, a.data) for a in draft.attachments] == [
        ("offert.pdf", "application/pdf", b"%PDF-")]  # the inline logo stays behind


def test_reply_to_wins_over_from():
    raw = b"From: Karin <karin@kund.example>\r\nReply-To: Support <support@kund.example>\r\nSubject: Hej\r\n\r\nx\r\n"
    draft = answer(raw, "reply", ME, "x")
    assert draft.to == "Support <support@kund.example>"
    assert draft.body.startswith("\n\nKarin:\n")  # the default intro, with no Date, names the writer


def test_a_name_outside_ascii_is_prefilled_as_written_and_still_sent_encoded():
    raw = (b"From: =?utf-8?b?w4VzYSDDlmJlcmc=?= <asa@kund.example>\r\n"
           b"Cc: =?utf-8?q?Bj=C3=B6rn_=22Bj=C3=B6rnen=22_Ek?= <bjorn@kund.example>\r\n"
           b"Subject: Hej\r\n\r\nx\r\n")
    draft = answer(raw, "all", ME, "x")
    assert draft.to == "Åsa Öberg <asa@kund.example>"  # not =?utf-8?b?...?= in the To field
    assert draft.cc == '"Björn \\"Björnen\\" Ek" <bjorn@kund.example>'
    assert parse_recipients(draft.to + ", " + draft.cc) == [("Åsa Öberg", "asa@kund.example"),
                                                           ('Björn "Björnen" Ek', "bjorn@kund.example")]
    message, _recipients = build_message("Anna", ME, draft)
    wire = message.as_bytes()
    headers = wire.split(b"\r\n\r\n")[0]
    assert b"=?utf-8?" in headers and "Åsa".encode() not in headers  # headers stay 7-bit on the wire
    assert email.message_from_bytes(wire, policy=email.policy.default)["To"] == "Åsa Öberg <asa@kund.example>"


@pytest.mark.parametrize("mode", ["reply", "all"])
def test_a_prefilled_reply_can_be_sent_as_it_is(mode):
    draft = answer(ORIGINAL, mode, ME, TEXT, swedish_intro)
    message, recipients = build_message("Anna Andersson", ME, draft)
    assert recipients[0] == "karin@kund.example"
    assert message["In-Reply-To"] == "<orig-1@kund.example>"


@pytest.mark.parametrize("prefix,subject,expected", [
    ("Re:", "Offert", "Re: Offert"),
    ("Re:", "  Offert  ", "Re: Offert"),
    ("Re:", "Re: Offert", "Re: Offert"),
    ("Re:", "RE: Offert", "RE: Offert"),
    ("Re:", "", "Re:"),
    ("Fwd:", "Re: Offert", "Fwd: Re: Offert"),
    ("Fwd:", "fwd: Offert", "fwd: Offert"),
])
def test_the_prefix_is_added_once(prefix, subject, expected):
    assert prefixed(prefix, subject) == expected


@pytest.mark.parametrize("text,expected", [
    ("Hej", "\n\nKarin skrev:\n> Hej\n"),
    ("rad ett\n\nrad tre", "\n\nKarin skrev:\n> rad ett\n> \n> rad tre\n"),
    ("> citerad\r\nny", "\n\nKarin skrev:\n> > citerad\n> ny\n"),
    ("", "\n\nKarin skrev:\n\n"),
])
def test_every_line_of_the_original_is_quoted(text, expected):
    assert quote(text, "Karin skrev:") == expected


# --- recipients ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("  ;, ", []),
    ("anna@kund.example", [("", "anna@kund.example")]),
    ("<anna@kund.example>", [("", "anna@kund.example")]),
    ("Anna Berg <anna@kund.example>", [("Anna Berg", "anna@kund.example")]),
    ('"Berg, Anna" <anna@kund.example>, bob@partner.example',
     [("Berg, Anna", "anna@kund.example"), ("", "bob@partner.example")]),
    ('"Berg; Anna" <anna@kund.example>; bob@partner.example',
     [("Berg; Anna", "anna@kund.example"), ("", "bob@partner.example")]),
    ("anna.berg+crm@kund.example;", [("", "anna.berg+crm@kund.example")]),
    ("ANNA@KUND.EXAMPLE", [("", "ANNA@KUND.EXAMPLE")]),
])
def test_recipients_parse_as_they_read(text, expected):
    assert parse_recipients(text) == expected


@pytest.mark.parametrize("text,bad", [
    ('"support@bank.example" <mallory@evil.example>', '"support@bank.example" <mallory@evil.example>'),
    ("alice@kund.example)<bob@evil.example>", "alice@kund.example)<bob@evil.example>"),
    ("anna@kund.example (Anna)", "anna@kund.example (Anna)"),
    ("<a@kund.example> <b@evil.example>", "<a@kund.example> <b@evil.example>"),
    ("Anna <anna@kund.example>>", "Anna <anna@kund.example>>"),
    ("Anna <anna@kund.example", "Anna <anna@kund.example"),
    ("ok@kund.example, <c@evil.example", "<c@evil.example"),
    ("anna@kund", "anna@kund"),
    ("anna@@kund.example", "anna@@kund.example"),
    ("inte en adress", "inte en adress"),
    ("anna@kund.example\nBcc: all@evil.example", "anna@kund.example\nBcc: all@evil.example"),
    ("anna@kund.example\r", "anna@kund.example"),
    ("anna@kund.example\x00", "anna@kund.example\x00"),
])
def test_disguised_addresses_and_line_breaks_are_refused(text, bad):
    with pytest.raises(InvalidRecipients) as refused:
        parse_recipients(text)
    assert refused.value.bad == [bad]


# --- the message ---------------------------------------------------------------------------------


def _sent(draft: Draft, name: str = "Anna Andersson") -> tuple[email.message.EmailMessage, list[str]]:
    message, recipients = build_message(name, ME, draft)
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default), recipients


def test_the_built_message_says_what_the_user_wrote_and_hides_bcc():
    draft = Draft(to='"Berg, Karin" <karin@kund.example>', cc="chef@kund.example", bcc="arkiv@inkorg.test",
                  subject="Offert för våren", body="Hej!\r\nHär är offerten.\r.\n", in_reply_to="<orig-1@kund.example>",
                  attachments=[Upload("../../offert.pdf", "application/pdf", b"%PDF-"), Upload("x", "", b"?")])
    message, recipients = _sent(draft, "Anna Åberg")
    assert recipients == ["karin@kund.example", "chef@kund.example", "arkiv@inkorg.test"]
    assert message["From"] == "Anna Åberg <anna@inkorg.test>"
    assert message["To"] == '"Berg, Karin" <karin@kund.example>'
    assert message["Cc"] == "chef@kund.example"
    assert message["Bcc"] is None and b"arkiv@inkorg.test" not in message.as_bytes()
    assert message["Subject"] == "Offert för våren"
    assert message["Message-ID"].endswith("@inkorg.test>")
    assert message["In-Reply-To"] == message["References"] == "<orig-1@kund.example>"
    assert message.get_body(("plain",)).get_content().splitlines() == ["Hej!", "Här är offerten.", "."]
    assert [(p.get_filename(), p.get_content_type()) for p in message.iter_attachments()] == [
        ("offert.pdf", "application/pdf"), ("x", "application/octet-stream")]


@pytest.mark.parametrize("draft,name,error", [
    (Draft(), "Anna", InvalidRecipients),
    (Draft(to="karin@kund.example", subject="Hej\r\nBcc: all@evil.example"), "Anna", InvalidHeader),
    (Draft(to="karin@kund.example", subject="Hej"), "Anna\nBcc: all@evil.example", InvalidHeader),
    (Draft(to="karin@kund.example", in_reply_to="<a@b>\nBcc: all@evil.example"), "Anna", InvalidHeader),
    (Draft(to="karin@kund.example", bcc='"x@kund.example" <y@evil.example>'), "Anna", InvalidRecipients),
])
def test_a_message_that_would_not_travel_as_written_is_refused(draft, name, error):
    with pytest.raises(error):
        build_message(name, ME, draft)


def test_a_draft_keeps_what_parses_and_never_breaks_a_header():
    draft = Draft(to="karin@kund.example, inte-klar@", cc="chef@kund.example", bcc="arkiv@inkorg.test",
                  subject="Halvfärdig\r\nBcc: all@evil.example", body="Hej")
    message = email.message_from_bytes(draft_message("Anna\nÅberg", ME, draft).as_bytes(),
                                       policy=email.policy.default)
    assert message["To"] is None  # the half-written list is kept in the form, not in a header
    assert message["Cc"] == "chef@kund.example"
    assert message["Bcc"] == "arkiv@inkorg.test"  # the user's own Drafts folder keeps it
    assert message["Subject"] == "Halvfärdig Bcc: all@evil.example"
    assert message["From"] == "Anna Åberg <anna@inkorg.test>"
    assert message.get_body(("plain",)).get_content().splitlines() == ["Hej"]
