"""Store messages the way a mail client would: IMAP APPEND over TLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from imapclient import SEEN, IMAPClient  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Append:
    message: bytes
    folder: str = "INBOX"
    seen: bool = False
    date: datetime | None = None


def append_messages(
    host: str,
    port: int,
    context: ssl.SSLContext,
    address: str,
    password: str,
    items: Iterable[Append],
) -> int:
    count = 0
    with IMAPClient(host, port=port, ssl=True, ssl_context=context, timeout=10) as client:
        client.login(address, password)
        for item in items:
            if item.folder != "INBOX" and not client.folder_exists(item.folder):
                client.create_folder(item.folder)
            flags = (SEEN,) if item.seen else ()
            client.append(item.folder, item.message, flags=flags, msg_time=item.date)
            count += 1
    return count
