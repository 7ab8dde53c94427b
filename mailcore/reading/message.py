"""A message's bytes and text for the reading pane (fetched when first opened, then kept by
`MailAccount.raw_message`)."""

from __future__ import annotations

import email.policy
import re
from email.parser import BytesParser
from html.parser import HTMLParser

from imapclient import IMAPClient

MAX_FETCH = 25 * 1024 * 1024  # larger messages are cut here (attachments past it are not offered)
MAX_TEXT = 200_000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def text_of(raw: bytes) -> str:
    """The plain text of a message: its text/plain part, else its HTML as text; never raises."""
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, AssertionError):
            payload = part.get_payload(decode=True) or b""
            content = payload.decode("utf-8", "replace")
        if part.get_content_subtype() == "html":
            content = html_to_text(content)
        return content.replace("\x00", "")[:MAX_TEXT]
    except Exception:
        return raw[:MAX_TEXT].decode("utf-8", "replace").replace("\x00", "")


def fetch_raw(client: IMAPClient, folder_name: str, uid: int) -> bytes | None:
    """The message's bytes, at most MAX_FETCH of them whatever size the server claims; None when
    the message is no longer there."""
    client.select_folder(folder_name, readonly=True)
    data = client.fetch([uid], [f"BODY.PEEK[]<0.{MAX_FETCH}>"]).get(uid, {})
    return next((value for key, value in data.items() if key.startswith(b"BODY[")), None)
