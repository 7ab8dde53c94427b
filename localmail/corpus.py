"""Awkward messages: what real mailboxes contain and parsers trip over.

    for name, raw in awkward_messages():
        lab.append(address, raw)              # IMAP APPEND: Dovecot accepts every one
    for name, raw in unappendable_messages():
        lab.write_message(address, raw)       # APPEND refuses these: straight into the maildir
    # or both at once: lab.load_awkward(address) -> {name: uid}

Raw bytes with CRLF line ends. What Dovecot 2.3.19 then serves, for a sync
engine to cope with:
  - NUL bytes are stored as given; BODY[] returns them as 0x80, BINARY[] (a
    literal8, ~{n}) as NUL; ENVELOPE's address parser stops at the NUL
    ("Nul@MISSING_DOMAIN").
  - raw 8-bit headers come back raw in ENVELOPE (no charset to decode them with).
  - no From / no Date / unparsable Date: ENVELOPE fields are NIL.
  - the zero-byte message (written to the maildir): RFC822.SIZE 0, ENVELOPE all NIL.
"""

from __future__ import annotations

import base64

CRLF = b"\r\n"
TEN_MB = 10 * 1024 * 1024
# unappendable_messages() name -> Dovecot 2.3.19's answer to their APPEND (tagged NO).
APPEND_REFUSED = {"zero-bytes": "Can't save a zero byte message"}


def _message(*headers: str | bytes, body: bytes = b"") -> bytes:
    lines = [h.encode("ascii") if isinstance(h, str) else h for h in headers]
    return CRLF.join(lines) + CRLF + CRLF + body


def _q(text: str, charset: str) -> str:
    """RFC 2047 Q encoding, done by hand so the output is exactly what we want."""
    out = []
    for byte in text.encode(charset):
        char = chr(byte)
        if char == " ":
            out.append("_")
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def _b(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


_BASE = (
    "To: Test Recipient <recipient@example.com>",
    "Date: Mon, 02 Jun 2025 09:30:00 +0200",
)


def awkward_messages() -> list[tuple[str, bytes]]:
    """(name, raw bytes) for each awkward message; names are unique identifiers."""
    messages: list[tuple[str, bytes]] = []

    def add(name: str, raw: bytes) -> None:
        messages.append((name, raw))

    # --- MIME structure -------------------------------------------------------------
    add("mime-missing-boundary", _message(
        "From: Broken Mime <broken@example.com>", *_BASE,
        "Subject: multipart without a boundary parameter",
        "Message-ID: <mime-missing-boundary@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed",
        body=b"--xyz\r\nContent-Type: text/plain\r\n\r\nFirst part.\r\n--xyz\r\n"
        b"Content-Type: text/plain\r\n\r\nSecond part.\r\n--xyz--\r\n",
    ))  # fmt: skip
    add("mime-garbled-boundary", _message(
        "From: Broken Mime <broken@example.com>", *_BASE,
        "Subject: multipart whose parts use another boundary",
        "Message-ID: <mime-garbled-boundary@example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="==declared=="',
        body=b"--==actual==\r\nContent-Type: text/plain\r\n\r\nPlain.\r\n--==actual==\r\n"
        b"Content-Type: text/html\r\n\r\n<p>Html.</p>\r\n--==act",  # and cut off mid-boundary
    ))  # fmt: skip
    add("mime-unterminated", _message(
        "From: Broken Mime <broken@example.com>", *_BASE,
        "Subject: multipart without the closing boundary",
        "Message-ID: <mime-unterminated@example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        body=b"--b1\r\nContent-Type: text/plain\r\n\r\nOnly part, never closed.\r\n"
        b"--b1\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ",  # truncated base64 too
    ))  # fmt: skip

    # --- charsets ----------------------------------------------------------------------
    add("unknown-charset", _message(
        "From: Unknown Charset <unknown@example.com>", *_BASE,
        "Subject: =?x-unknown?Q?Ok=E4nd_teckenupps=E4ttning?=",
        "Message-ID: <unknown-charset@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=x-unknown",
        "Content-Transfer-Encoding: 8bit",
        body="Hälsningar från en okänd teckenuppsättning\r\n".encode("iso-8859-1"),
    ))  # fmt: skip
    add("raw-8bit-no-charset", _message(
        "From: Åsa Öberg <asa@example.se>".encode("iso-8859-1"),
        *_BASE,
        "Subject: Räksmörgås på fredag".encode("iso-8859-1"),
        b"Message-ID: <raw-8bit@example.se>",
        body="Hej! Vi ses på fredag vid sjön.\r\nÅsa\r\n".encode("iso-8859-1"),
    ))  # fmt: skip
    add("raw-utf8-no-charset", _message(
        "From: Björn Ängström <bjorn@example.se>".encode(),
        *_BASE,
        "Subject: Smörgåsbord för alla".encode(),
        b"Message-ID: <raw-utf8@example.se>",
        body="Välkomna på smörgåsbord.\r\n".encode(),
    ))  # fmt: skip
    swedish = [
        ("rfc2047-latin1-q", "iso-8859-1", _q),
        ("rfc2047-latin1-b", "iso-8859-1", _b),
        ("rfc2047-utf8-q", "utf-8", _q),
        ("rfc2047-utf8-b", "utf-8", _b),
    ]
    for name, charset, encode in swedish:
        add(name, _message(
            f"From: {encode('Åsa Öberg', charset)} <asa.oberg@example.se>",
            f"To: {encode('Märta Söderlund', charset)} <marta@example.se>",
            "Cc: " + encode("Göran Håkansson", charset) + " <goran@example.se>",
            "Date: Tue, 03 Jun 2025 14:05:00 +0200",
            f"Subject: {encode('Återkoppling: räksmörgås på fredag', charset)}",
            f"Message-ID: <{name}@example.se>",
            "MIME-Version: 1.0",
            f"Content-Type: text/plain; charset={charset}",
            "Content-Transfer-Encoding: 8bit",
            body="Hej Märta!\r\n\r\nVi ses på fredag.\r\n/Åsa\r\n".encode(charset),
        ))  # fmt: skip
    add("rfc2047-mixed-words", _message(
        f"From: {_q('Örjan', 'iso-8859-1')} {_b('Wästberg', 'utf-8')} <orjan@example.se>",
        *_BASE,
        # Two adjacent encoded words (the space between them is not shown) and plain text.
        "Subject: SV: " + _q("Årsmöte", "utf-8") + " " + _b(" i föreningen", "iso-8859-1")
        + " 2025",
        "Message-ID: <rfc2047-mixed@example.se>",
        body=b"Se bifogad kallelse.\r\n",
    ))  # fmt: skip

    # --- odd header content ------------------------------------------------------------
    add("nul-in-display-name", _message(
        b"From: Nul\x00Byte <nul@example.com>",
        *_BASE,
        b"Subject: a NUL byte in the From display name",
        b"Message-ID: <nul-byte@example.com>",
        body=b"The display name has a NUL byte in it.\r\n",
    ))  # fmt: skip
    recipients = ",\r\n ".join(f"Recipient {i} <r{i}@example.com>" for i in range(10_000))
    add("ten-thousand-recipients", _message(
        "From: Mass Mailer <mass@example.com>",
        f"To: {recipients}",
        "Date: Wed, 04 Jun 2025 08:00:00 +0000",
        "Subject: ten thousand recipients in To",
        "Message-ID: <ten-thousand@example.com>",
        body=b"Everyone is in To.\r\n",
    ))  # fmt: skip
    add("long-subject-20k", _message(
        "From: Long Subject <long@example.com>", *_BASE,
        # 20 KB on one physical line: no folding at all.
        "Subject: " + ("A very long subject line " * 1000)[:20480],
        "Message-ID: <long-subject@example.com>",
        body=b"The subject is 20 KB long.\r\n",
    ))  # fmt: skip
    add("no-date-no-from", _message(
        "To: Test Recipient <recipient@example.com>",
        "Subject: no Date and no From header",
        "Message-ID: <no-date-no-from@example.com>",
        body=b"Who sent this, and when?\r\n",
    ))  # fmt: skip
    add("unparsable-date", _message(
        "From: Bad Date <baddate@example.com>",
        "To: Test Recipient <recipient@example.com>",
        "Date: sometime last tuesday, around noon-ish",
        "Subject: a Date header nobody can parse",
        "Message-ID: <unparsable-date@example.com>",
        body=b"The Date header is nonsense.\r\n",
    ))  # fmt: skip
    add("headers-only", _message(
        "From: Headers Only <headers@example.com>", *_BASE,
        "Subject: headers and an empty body",
        "Message-ID: <headers-only@example.com>",
    ))  # fmt: skip
    add("headers-only-no-blank-line", CRLF.join([
        b"From: Headers Only <headers@example.com>",
        b"Subject: headers, no blank line, no body",
        b"Message-ID: <headers-no-blank@example.com>",
    ]) + CRLF)  # fmt: skip

    # --- size -------------------------------------------------------------------------------
    line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (TEN_MB // 36 + 1))[:TEN_MB]
    add("ten-mb-single-line", _message(
        "From: Big Line <big@example.com>", *_BASE,
        "Subject: a 10 MB body on one line without a newline",
        "Message-ID: <ten-mb-line@example.com>",
        body=line,
    ))  # fmt: skip
    return messages


def unappendable_messages() -> list[tuple[str, bytes]]:
    """Messages Dovecot refuses over APPEND (see APPEND_REFUSED) but serves when they are
    in the maildir already: store them with lab.write_message()."""
    return [("zero-bytes", b"")]
