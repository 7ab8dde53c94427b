"""The list's fields from the header lines a sync fetches (BODY.PEEK[HEADER.FIELDS (...)]), and
previews from the first bytes of a text, without any server: the bytes are what Dovecot answers."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from mailcore.sync.listfields import first_text, header_block, header_lines, list_fields, preview_text


def block(*lines: bytes | str) -> bytes:
    """A HEADER.FIELDS answer: the matching lines as the message has them, then an empty line."""
    return b"".join((line.encode() if isinstance(line, str) else line) + b"\r\n" for line in lines) + b"\r\n"


@pytest.mark.parametrize("raw,name,address", [
    ("From: Anna Berg <anna@kund.example>", "Anna Berg", "anna@kund.example"),
    ("From: anna@kund.example", "", "anna@kund.example"),
    ("From: <anna@kund.example>", "", "anna@kund.example"),
    ('From: "Berg, Anna" <anna@kund.example>', "Berg, Anna", "anna@kund.example"),
    ("From: \"Tom O'Neill\" <tom@example.net>", "Tom O'Neill", "tom@example.net"),
    ("From: =?iso-8859-1?q?=C5sa_=D6berg?= <asa@kund.example>", "Åsa Öberg", "asa@kund.example"),
    ("From: =?utf-8?b?w4VzYSDDlmJlcmc=?= <asa@kund.example>", "Åsa Öberg", "asa@kund.example"),
    ("From: =?iso-8859-1?q?=D6rjan?= =?utf-8?b?V8Okc3RiZXJn?= <orjan@example.se>", "ÖrjanWästberg",
     "orjan@example.se"),  # adjacent encoded words join without the space between them (RFC 2047)
    ("From: Anna Berg <anna@kund.example>, Bob <bob@partner.example>", "Anna Berg", "anna@kund.example"),
    ("From: =?x-unknown?q?Ok=E4nd?= <x@example.com>", "=?x-unknown?q?Ok=E4nd?=", "x@example.com"),
    ("From: bob", "", "bob"),
    ("From: Anna\r\n Berg <anna@kund.example>", "Anna Berg", "anna@kund.example"),  # folded
    ("FROM: Anna Berg <anna@kund.example>", "Anna Berg", "anna@kund.example"),
    ("from:Anna Berg <anna@kund.example>", "Anna Berg", "anna@kund.example"),
    ("From: undisclosed-recipients:;", "undisclosed-recipients:;", ""),
])
def test_sender(raw, name, address):
    fields = list_fields(block(raw, "Subject: x"))
    assert (fields.sender_name, fields.sender_address) == (name, address)


@pytest.mark.parametrize("raw,name", [
    ("From: Åsa Öberg <asa@example.se>".encode("latin-1"), "Åsa Öberg"),  # raw 8-bit, no charset
    ("From: Björn Ängström <bjorn@example.se>".encode(), "Björn Ängström"),  # raw UTF-8
    (b"From: Nul\x80Byte <nul@example.com>", "Nul Byte"),  # a NUL, which IMAP hands over as 0x80
    (b"From: Tab\tand\x01control <c@example.com>", "Tab and control"),
])
def test_raw_bytes_in_a_name(raw, name):
    fields = list_fields(block(raw))
    assert fields.sender_name == name
    assert fields.sender_address.endswith(".com") or fields.sender_address.endswith(".se")


def test_sender_stands_in_for_a_missing_from():
    fields = list_fields(block("Sender: Listan <lista@example.org>", "Subject: Nyhetsbrev"))
    assert (fields.sender_name, fields.sender_address) == ("Listan", "lista@example.org")
    fields = list_fields(block("From: Anna <anna@example.se>", "Sender: Listan <lista@example.org>"))
    assert fields.sender_address == "anna@example.se"


def test_the_first_of_two_from_lines_counts():
    assert list_fields(block("From: First <a@example.se>", "From: Second <b@example.se>")).sender_name == "First"


@pytest.mark.parametrize("raw,subject", [
    ("Subject: Offert för våren", "Offert för våren"),
    ("Subject: =?iso-8859-1?q?=C5terkoppling=3A_r=E4ksm=F6rg=E5s_p=E5_fredag?=",
     "Återkoppling: räksmörgås på fredag"),
    ("Subject: =?utf-8?B?w4V0ZXJrb3BwbGluZw==?= #12", "Återkoppling #12"),
    ("Subject: SV: =?utf-8?q?=C3=85rsm=C3=B6te?= =?iso-8859-1?b?IGkgZvZyZW5pbmdlbg==?= 2025",
     "SV: Årsmöte i föreningen 2025"),
    ("Subject: Lång\r\n\trad", "Lång rad"),  # folded with a tab
    ("Subject: two  spaces\tand tab", "two spaces and tab"),
    ("Subject: ", ""),
    ("Subject: =?x-unknown?Q?Ok=E4nd_teckenupps=E4ttning?=", "=?x-unknown?Q?Ok=E4nd_teckenupps=E4ttning?="),
    ("Subject: =?utf-8?q?broken", "=?utf-8?q?broken"),
    ("Subject: Räksmörgås på fredag".encode("latin-1"), "Räksmörgås på fredag"),
    ("Subject: Smörgåsbord för alla".encode(), "Smörgåsbord för alla"),
])
def test_subject(raw, subject):
    assert list_fields(block("From: a@example.se", raw)).subject == subject


def test_a_20_kb_subject_is_cut_to_what_the_list_keeps():
    subject = list_fields(block("Subject: " + "A very long subject line " * 1000)).subject
    assert len(subject) == 1000 and subject.startswith("A very long subject line A very")


@pytest.mark.parametrize("raw,date", [
    ("Date: Mon, 02 Jun 2025 09:30:00 +0200", datetime(2025, 6, 2, 7, 30)),
    ("Date: Mon, 2 Jun 2025 09:30:00 -0500", datetime(2025, 6, 2, 14, 30)),
    ("Date: Mon, 02 Jun 2025 09:30:00 -0000", datetime(2025, 6, 2, 9, 30)),  # UTC, zone unknown
    ("Date: 02 Jun 2025 09:30 +0000", datetime(2025, 6, 2, 9, 30)),
    ("Date: Mon, 02 Jun 2025 09:30:00 GMT", datetime(2025, 6, 2, 9, 30)),
    ("Date: Mon, 02 Jun 2025\r\n 09:30:00 +0200", datetime(2025, 6, 2, 7, 30)),
    ("Date: sometime last tuesday, around noon-ish", None),
    ("Date: ", None),
    ("Date: Mon, 32 Jun 2025 09:30:00 +0200", None),
    ("Date: Mon, 02 Jun 99999 09:30:00 +0200", None),
    ("Subject: no date at all", None),
])
def test_date_in_utc_or_none(raw, date):
    assert list_fields(block(raw)).date == date


@pytest.mark.parametrize("raw,attached", [
    ('Content-Type: multipart/mixed; boundary="b1"', True),
    ("Content-Type: Multipart/Mixed;\r\n boundary=x", True),
    ("Content-Type: multipart/mixed", True),
    ('Content-Type: multipart/alternative; boundary="b1"', False),
    ('Content-Type: multipart/related; boundary="b1"', False),
    ("Content-Type: text/plain; charset=utf-8", False),
    ("Content-Type: text/html", False),
    ('Content-Type: application/pdf; name="faktura.pdf"', True),
    ("Content-Type: image/png", True),
    ("Subject: no content type", False),
])
def test_the_paperclip_from_the_content_type(raw, attached):
    assert list_fields(block(raw)).has_attachments is attached


@pytest.mark.parametrize("raw", [None, b"", b"\r\n", block(), b"garbage without a colon\r\n\r\n"])
def test_nothing_to_go_on_gives_empty_fields(raw):
    fields = list_fields(raw)
    assert (fields.sender_name, fields.sender_address, fields.subject, fields.date,
            fields.has_attachments) == ("", "", "", None, False)


def test_header_lines_unfold_and_keep_the_first():
    lines = header_lines(block("Subject: one\r\n two", "SUBJECT: again", "X-Empty:"))
    assert lines == {b"subject": b"one two", b"x-empty": b""}


def test_the_header_block_whatever_the_server_calls_it():
    data = {b"FLAGS": (), b"BODY[HEADER.FIELDS (FROM SUBJECT)]": b"From: a\r\n\r\n", b"RFC822.SIZE": 5}
    assert header_block(data) == b"From: a\r\n\r\n"
    assert header_block({b"BODY[HEADER.FIELDS (\"FROM\")]": None}) is None
    assert header_block({b"FLAGS": ()}) is None


# --- previews ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,text", [
    (b"Hej! Ses vi i morgon?", "Hej! Ses vi i morgon?"),
    ("Vi ses på fredag".encode(), "Vi ses på fredag"),
    ("Vi ses på fredag".encode("latin-1"), "Vi ses på fredag"),
    ("Två\r\n  rader".encode(), "Två rader"),
    (None, ""),
    (b"", ""),
    ("x" * 400, "x" * 300),
])
def test_a_preview_from_the_server(raw, text):
    assert preview_text(raw) == text


def _b64(text: str, charset: str = "utf-8") -> bytes:
    return base64.encodebytes(text.encode(charset))


@pytest.mark.parametrize("content_type,encoding,start,text", [
    (b"text/plain; charset=utf-8", b"8bit", "Hej!\r\n\r\nTack för senast.\r\n".encode(), "Hej! Tack för senast."),
    (b"text/plain; charset=iso-8859-1", b"quoted-printable", b"R=E4ksm=F6rg=E5s p=E5\r\n fredag",
     "Räksmörgås på fredag"),
    (b"text/plain; charset=utf-8", b"base64", _b64("Välkomna på smörgåsbord."), "Välkomna på smörgåsbord."),
    (b"text/plain; charset=utf-8", b"base64", _b64("Avbruten mitt i en mening och mer text här")[:30],
     "Avbruten mitt i en men"),  # cut off inside the base64: what is whole is shown
    (b"text/html; charset=utf-8", None,
     b"<html><head><style>p{color:red}</style></head><body><p>Hej <b>Anna</b>!</p><p>Vi ses.</p></body></html>",
     "Hej Anna ! Vi ses."),
    (b"text/plain; charset=x-unknown", b"8bit", "Okänd".encode("latin-1"), "Okänd"),
    (None, None, b"No headers: plain text assumed", "No headers: plain text assumed"),
    (b'multipart/alternative; boundary="b"', None,
     b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nF\xc3\xb6rsta delen\r\n--b\r\n"
     b"Content-Type: text/html\r\n\r\n<p>Andra</p>\r\n--b--\r\n", "Första delen"),
    (b'multipart/mixed; boundary="b"', None,
     b"This is a multi-part message in MIME format.\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
     b"Se bifogad fil.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x",
     "Se bifogad fil."),
    (b'multipart/mixed; boundary="b"', None,
     b"--b\r\nContent-Type: text/plain; name=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\n"
     b"filen\r\n--b--\r\n", ""),  # only a file: nothing to preview
    (b'multipart/mixed; boundary="b"', None, b"--b\r\nContent-Type: text/plain\r\n\r\nNever clo", "Never clo"),
    (b"application/pdf", b"base64", b"JVBERi0xLjQK", ""),
    (b"text/plain", None, b"", ""),
])
def test_a_preview_from_the_first_bytes(content_type, encoding, start, text):
    assert first_text(content_type, encoding, start) == text
