"""A message's text for the reading pane: fetched when first opened, then kept."""

from __future__ import annotations

import email.policy
import re
from email.parser import BytesParser
from html.parser import HTMLParser

from sqlalchemy.orm import Session

from . import errors
from .connect import MailEnvironment
from .crypto import SecretBox
from .models import Account, Folder, Message
from .services import account_imap

MAX_FETCH = 25 * 1024 * 1024  # larger messages are cut here (attachments past it are not offered)
MAX_TEXT = 200_000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data):  # noqa: ANN001
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
    except Exception:  # noqa: BLE001 - a broken message still opens, as its raw text
        return raw[:MAX_TEXT].decode("utf-8", "replace").replace("\x00", "")


def raw_message(db: Session, account: Account, message: Message, env: MailEnvironment, box: SecretBox) -> bytes:
    """The message as the server has it (cut at MAX_FETCH), fetched once and then kept."""
    if message.raw is not None:
        return message.raw
    folder = db.get(Folder, message.folder_id)
    with account_imap(account, box, env) as client:
        client.select_folder(folder.name, readonly=True)
        item = f"BODY.PEEK[]<0.{MAX_FETCH}>" if message.size > MAX_FETCH else "BODY.PEEK[]"
        fetched = client.fetch([message.uid], [item])
    data = fetched.get(message.uid, {})
    raw = next((value for key, value in data.items() if key.startswith(b"BODY[")), None)
    if raw is None:
        raise errors.ProtocolFailure("the message is no longer on the server").on(
            errors.INCOMING, account.imap_host, account.imap_port)
    message.raw = raw
    message.body_text = text_of(raw)
    db.commit()
    return raw


def message_text(db: Session, account: Account, message: Message, env: MailEnvironment, box: SecretBox) -> str:
    if message.body_text is None:
        raw_message(db, account, message, env, box)
    return message.body_text or ""
