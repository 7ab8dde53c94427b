"""FETCH answers read by mailcore.sync.fetchparse give exactly what imapclient's parser gives, whatever
their shape: the shapes a sync asks for are read by a regular expression, every other goes to
imapclient. The answers are imaplib's lists, as Dovecot's lines arrive."""

from __future__ import annotations

import random

import pytest
from imapclient.exceptions import ProtocolError
from imapclient.response_parser import parse_fetch_response

from mailcore.sync import fetchparse
from mailcore.sync.fetchparse import parse_fetch

HEADERS = b"BODY[HEADER.FIELDS (FROM SENDER SUBJECT DATE CONTENT-TYPE)]"
BLOCK = b"From: Anna <anna@example.se>\r\nSubject: =?utf-8?q?Hej_d=C3=A5?=\r\n\r\n"


def imapclient_reads(data: list) -> dict:
    return dict(parse_fetch_response(data, False, False))


@pytest.fixture
def fast_only(monkeypatch):
    """Fails the test if an answer is handed to imapclient: it must have been read fast."""
    def refuse(*_args):
        raise AssertionError("handed to imapclient")

    monkeypatch.setattr(fetchparse, "parse_fetch_response", refuse)


SYNC_SHAPES = {
    "list summary": [(b"12 (UID 4711 FLAGS (\\Seen \\Flagged $Forwarded) RFC822.SIZE 470 " + HEADERS + b" {%d}"
                      % len(BLOCK), BLOCK), b")"],
    "no flags, MODSEQ": [(b"1 (UID 1 FLAGS () RFC822.SIZE 0 MODSEQ (123456789012) " + HEADERS + b" {0}", b""), b")"],
    "items after the literal": [(b"3 (" + HEADERS + b" {%d}" % len(BLOCK), BLOCK), b" UID 9 FLAGS (\\Seen))"],
    "two literals": [(b"3 (UID 9 " + HEADERS + b" {%d}" % len(BLOCK), BLOCK),
                     (b" PREVIEW {11}", "Hej på dig".encode()), b")"],
    "preview quoted": [b'7 (UID 70 PREVIEW "Hej! Ses vi i \\"morgon\\"? C:\\\\temp")'],
    "preview literal": [(b"7 (UID 70 PREVIEW {13}", "Vi ses på kv".encode()), b")"],
    "preview NIL": [b"7 (UID 70 PREVIEW NIL)"],
    "flags only": [b"5 (UID 50 FLAGS (\\Answered))", b"6 (UID 51 FLAGS ())"],
    "CHANGEDSINCE answer": [b"5 (UID 50 MODSEQ (99) FLAGS (\\Seen $Label1))"],
    "unsolicited, without UID": [b"2 (FLAGS (\\Deleted))", b"8 (UID 80 FLAGS ())"],
    "same message twice": [b"4 (UID 40 FLAGS (\\Seen))", b"4 (RFC822.SIZE 999)"],
    "empty": [b"9 ()"],
    "text bytes": [(b"4 (UID 40 BODY[HEADER.FIELDS (CONTENT-TYPE CONTENT-TRANSFER-ENCODING)] {26}",
                    b"Content-Type: text/plain\r\n"), (b" BODY[TEXT]<0> {4}", b"Hej!"), b")"],
    "lower-case names": [b"4 (uid 40 flags (\\Seen) rfc822.size 12)"],
}


@pytest.mark.parametrize("data", SYNC_SHAPES.values(), ids=SYNC_SHAPES.keys())
def test_what_a_sync_asks_for_is_read_fast_and_as_imapclient_reads_it(data, fast_only):
    assert parse_fetch(data) == imapclient_reads(data)


OTHER_SHAPES = {
    "INTERNALDATE": [b'3 (UID 9 INTERNALDATE "02-Jun-2025 09:30:00 +0200" FLAGS ())'],
    "ENVELOPE": [b'3 (UID 9 ENVELOPE ("Mon, 2 Jun 2025 09:30:00 +0200" "Hej" (("Anna" NIL "anna" "example.se")) '
                 b'NIL NIL NIL NIL NIL NIL "<id@x>"))'],
    "BODYSTRUCTURE": [b'3 (UID 9 BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 4 1 NIL NIL '
                      b'NIL NIL))'],
    "a nested list": [b"3 (UID 9 X-THING ((1 2) (3)))"],
    "a quoted string in a list": [b'3 (UID 9 X-LABELS ("Viktigt" \\Inbox))'],
    "an atom value": [b"3 (UID 9 X-GM-MSGID 1278455344230334865 X-STATE open)"],
    "a hyphen in a name": [b"3 (UID 9 X-GM-THRID 12)"],
    "another escape in a quoted string": [b'3 (UID 9 PREVIEW "a\\tb")'],
    "literal8": [(b"3 (UID 9 BINARY[] ~{3}", b"a\x00b"), b")"],
    "a literal of the wrong size": [(b"3 (UID 9 BODY[] {10}", b"short"), b")"],
    "a second response in the tail": [(b"3 (UID 9 BODY[] {2}", b"ab"), b") garbage"],
}


@pytest.mark.parametrize("data", OTHER_SHAPES.values(), ids=OTHER_SHAPES.keys())
def test_every_other_shape_is_left_to_imapclient(data):
    try:
        expected = imapclient_reads(data)
    except ProtocolError:
        with pytest.raises(ProtocolError):
            parse_fetch(data)
        return
    assert parse_fetch(data) == expected


def test_a_uid_that_is_not_a_number_is_imapclients_error():
    with pytest.raises(ProtocolError):
        parse_fetch([b"3 (UID NIL FLAGS ())"])


def test_nothing_fetched():
    assert parse_fetch([None]) == {}
    assert parse_fetch([]) == {}


def _random_answer(rng: random.Random) -> list:
    """A FETCH answer made of the items a sync asks for, in any order, with awkward values."""
    data = []
    for seq in rng.sample(range(1, 10_000), rng.randint(1, 6)):
        items: list[tuple[bytes, object]] = [(b"UID", seq * 3)]
        if rng.random() < 0.8:
            flags = rng.sample([b"\\Seen", b"\\Flagged", b"\\Answered", b"\\Draft", b"$Forwarded", b"Junk",
                                b"$label_1"], rng.randint(0, 4))
            items.append((b"FLAGS", flags))
        if rng.random() < 0.5:
            items.append((b"RFC822.SIZE", rng.randint(0, 2**31)))
        if rng.random() < 0.3:
            items.append((b"MODSEQ", [rng.randint(1, 2**63)]))
        if rng.random() < 0.7:
            body = bytes(rng.choice(b"abc \r\n\"\\{}()[]\x80\xc3\xa5=?") for _ in range(rng.randint(0, 40)))
            items.append((HEADERS, body))
        if rng.random() < 0.5:
            text = "".join(rng.choice('Hej på dig "citat" \\ (x) {1}') for _ in range(rng.randint(0, 30)))
            items.append((b"PREVIEW", None if rng.random() < 0.1 else text.encode()))
        rng.shuffle(items)
        line, parts = b"%d (" % seq, []
        for number, (name, value) in enumerate(items):
            line += (b" " if number else b"") + name + b" "
            if isinstance(value, int):
                line += b"%d" % value
            elif isinstance(value, list):
                line += b"(" + b" ".join(v if isinstance(v, bytes) else b"%d" % v for v in value) + b")"
            elif value is None:
                line += b"NIL"
            elif rng.random() < 0.5 and b"\r" not in value and b"\n" not in value:
                line += b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
            else:
                parts.append((line + b"{%d}" % len(value), value))
                line = b""
        parts.append(line + b")")
        data.extend(parts)
    return data


@pytest.mark.parametrize("seed", range(300))
def test_random_answers_of_a_syncs_shapes(seed, monkeypatch):
    data = _random_answer(random.Random(seed))
    expected = imapclient_reads(data)
    monkeypatch.setattr(fetchparse, "parse_fetch_response", None)  # read fast, or fail
    assert parse_fetch(data) == expected, data
