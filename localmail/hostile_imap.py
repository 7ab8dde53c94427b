"""A scripted hostile IMAP server: it logs in and opens INBOX like any other, then misbehaves in
one chosen way. The tests aim the inbox at it to prove that no server can exhaust the process.

Behaviours:
  huge-range      QRESYNC answers a flag-change fetch with `VANISHED (EARLIER) 1:4294967295`
  lying-size      lists a message of 100 bytes, then answers the body fetch with a 256 MB literal
  huge-literal    answers the list fetch announcing a literal of 2 GB, then trickles it
  trickle         answers the list fetch one byte at a time, a few a second, for ever
  garbage         after the greeting and login, answers with an endless line of junk
  trickle-body    lists like any other, then answers the body fetch a byte at a time, for ever
  many-literals   answers the body fetch with literals of 16 MB each, one after the other, for ever
  many-lines      answers the body fetch with untagged lines, one after the other, for ever
  idle-flood      lists like any other, then streams untagged lines in IDLE, as fast as they are read
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from typing import BinaryIO

from .certs import ServerCert
from .listener import TlsListener

BEHAVIOURS = ("huge-range", "lying-size", "huge-literal", "trickle", "garbage", "trickle-body", "many-literals",
              "many-lines", "idle-flood")
CAPABILITIES = b"IMAP4rev1 IDLE ENABLE CONDSTORE QRESYNC UIDPLUS LITERAL+"
_ENVELOPE = (b'("Mon, 1 Dec 2026 10:00:00 +0000" "Hello {n}" (("Eve" NIL "eve" "evil.test")) NIL NIL '
             b'(("Anna" NIL "anna" "inkorg.test")) NIL NIL NIL "<m{n}@evil.test>")')


class HostileImap(TlsListener):
    def __init__(self, host: str, cert: ServerCert, behaviour: str):
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        super().__init__(host, cert, f"hostile-imap-{behaviour}")
        self.behaviour = behaviour
        self._modseq = 10  # grows with every SELECT: each sync sees a change to ask about
        self.start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                self._session(conn, conn.makefile("rb"))
        except (OSError, ssl.SSLError):
            pass  # the client gave up: that is the point

    def _session(self, conn: ssl.SSLSocket, lines: BinaryIO) -> None:
        conn.sendall(b"* OK [CAPABILITY " + CAPABILITIES + b"] hostile server ready\r\n")
        while not self._stop.is_set():
            line = lines.readline(65536)
            if not line:
                return
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            command = rest.upper()
            if command.startswith(b"UID "):
                command = command[4:]
            if command.startswith(b"LOGOUT"):
                conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                return
            answer = self._answer(conn, command)
            if answer is None:
                return  # the behaviour has run its course on this connection
            conn.sendall(answer.replace(b"TAG", tag))

    def _answer(self, conn: ssl.SSLSocket, command: bytes) -> bytes | None:
        if command.startswith(b"CAPABILITY"):
            return b"* CAPABILITY " + CAPABILITIES + b"\r\nTAG OK done\r\n"
        if command.startswith((b"LOGIN", b"AUTHENTICATE", b"NOOP", b"CHECK")):
            if self.behaviour == "garbage" and command.startswith(b"LOGIN"):
                conn.sendall(b"TAG OK logged in\r\n".replace(b"TAG", b"*"))  # no tag: the client waits on
                self._flood(conn)
                return None
            return b"TAG OK done\r\n"
        if command.startswith(b"ENABLE"):
            return b"* ENABLED QRESYNC\r\nTAG OK done\r\n"
        if command.startswith((b"LIST", b"LSUB")):
            word = command.split(b" ", 1)[0]
            return b"* " + word + b' (\\HasNoChildren) "/" INBOX\r\nTAG OK done\r\n'
        if command.startswith((b"SELECT", b"EXAMINE")):
            self._modseq += 1
            return (b"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 4] ok\r\n"
                    b"* OK [HIGHESTMODSEQ %d] ok\r\nTAG OK [READ-WRITE] done\r\n" % self._modseq)
        if command.startswith(b"SEARCH"):
            return b"* SEARCH 1 2 3\r\nTAG OK done\r\n"
        if command.startswith(b"FETCH"):
            return self._fetch(conn, command)
        if command.startswith(b"IDLE"):
            conn.sendall(b"+ idling\r\n")
            if self.behaviour == "idle-flood":
                self._stream(conn, b"* 1 EXISTS\r\n" * 512)
                return None
            return b""
        return b"TAG BAD unknown\r\n"

    def _fetch(self, conn: ssl.SSLSocket, command: bytes) -> bytes | None:
        if b"CHANGEDSINCE" in command:
            vanished = b"* VANISHED (EARLIER) 1:4294967295\r\n" if self.behaviour == "huge-range" else b""
            return vanished + b"TAG OK done\r\n"
        if b"BODY.PEEK[]" in command or b"BODY[]" in command:  # a whole message, for the reading pane
            if self.behaviour == "lying-size":
                size = 256 * 1024 * 1024
                conn.sendall(b"* 1 FETCH (UID 1 BODY[]<0> {%d}\r\n" % size)
                chunk = b"x" * 65536
                for _ in range(size // len(chunk)):
                    conn.sendall(chunk)
                return b")\r\nTAG OK done\r\n"
            if self.behaviour == "trickle-body":
                self._trickle(conn, b"* 1 FETCH (UID 1 BODY[]<0> {100000}\r\n")
                return None
            if self.behaviour == "many-literals":
                self._stream(conn, b"* 1 FETCH (UID 1 BODY[]<0> {16777216}\r\n" + b"x" * 16777216 + b")\r\n")
                return None
            if self.behaviour == "many-lines":
                self._stream(conn, b"* 1 EXISTS\r\n" * 4096)
                return None
            body = b"Subject: Hello\r\n\r\nHello\r\n"
            return b"* 1 FETCH (UID 1 BODY[]<0> {%d}\r\n%s)\r\nTAG OK done\r\n" % (len(body), body)
        if self.behaviour == "huge-literal":
            conn.sendall(b"* 1 FETCH (UID 1 FLAGS () ENVELOPE (\"Mon, 1 Dec 2026\" {2147483648}\r\n")
            self._trickle(conn, b"x")
            return None
        if self.behaviour == "trickle":
            self._trickle(conn, b"* 1 FETCH (UID 1 FLAGS () ")
            return None
        return b"".join(self._row(n, command) for n in (1, 2, 3)) + b"TAG OK done\r\n"

    @staticmethod
    def _row(n: int, command: bytes) -> bytes:
        """One message's answer to a list fetch, with what was asked: header lines or an ENVELOPE."""
        items = b"UID %d FLAGS () INTERNALDATE \"01-Dec-2026 10:00:00 +0000\" RFC822.SIZE 100" % n
        if b"ENVELOPE" in command:
            items += b" ENVELOPE " + _ENVELOPE.replace(b"{n}", b"%d" % n)
        for section in re.findall(rb"BODY\.PEEK\[(HEADER\.FIELDS \([^)]*\)|TEXT)\]", command):
            value = (b"From: Eve <eve@evil.test>\r\nSubject: Hello %d\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n"
                     b"Content-Type: text/plain\r\n\r\n" % n) if section.startswith(b"HEADER") else b"Hello\r\n"
            partial = b"<0>" if section == b"TEXT" and b"]<0." in command else b""
            items += b" BODY[%s]%s {%d}\r\n%s" % (section, partial, len(value), value)
        return b"* %d FETCH (%s)\r\n" % (n, items)

    def _trickle(self, conn: ssl.SSLSocket, start: bytes) -> None:
        """Some bytes, then one more every 0.2 s, never finishing the answer."""
        conn.sendall(start)
        while not self._stop.wait(0.2):
            conn.sendall(b"x")

    def _stream(self, conn: ssl.SSLSocket, piece: bytes) -> None:
        """The same piece again and again, as fast as the client reads, until it hangs up."""
        while not self._stop.is_set():
            conn.sendall(piece)

    def _flood(self, conn: ssl.SSLSocket) -> None:
        junk = b"\x00\xffjunk" * 8192
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            conn.sendall(junk)
