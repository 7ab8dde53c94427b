"""Store messages the way a mail client would: IMAP APPEND over TLS."""

from __future__ import annotations

import re
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
    uids: list[int | None] | None = None,
) -> int:
    """APPEND each item; the count. `uids` collects each new UID (APPENDUID), if given."""
    count = 0
    with IMAPClient(host, port=port, ssl=True, ssl_context=context, timeout=10) as client:
        client.login(address, password)
        for item in items:
            if item.folder != "INBOX" and not client.folder_exists(item.folder):
                client.create_folder(item.folder)
            flags = (SEEN,) if item.seen else ()
            answer = client.append(item.folder, item.message, flags=flags, msg_time=item.date)
            if uids is not None:
                uids.append(appended_uid(answer))
            count += 1
    return count


def appended_uid(answer: bytes | str) -> int | None:
    """The UID in APPEND's tagged answer `[APPENDUID <uidvalidity> <uid>] ...`."""
    text = answer.decode("ascii", "replace") if isinstance(answer, bytes) else answer
    match = re.search(r"\[APPENDUID \d+ (\d+)\]", text)
    return int(match.group(1)) if match else None


class NamedTlsContext(ssl.SSLContext):
    """A client context that verifies every server as `server_name`, whatever was dialled.

    IMAPClient hands the host it connects to over as the TLS server name; with
    this context the lab can dial its IP address and still check the certificate
    (chain and name) the way a client that looked the name up would.
    """

    server_name: str

    def wrap_socket(  # type: ignore[no-untyped-def, override]
        self, sock, *args, server_hostname=None, **kwargs
    ):
        return super().wrap_socket(sock, *args, server_hostname=self.server_name, **kwargs)


def named_context(cafile: str, server_name: str) -> NamedTlsContext:
    context = NamedTlsContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=cafile)
    context.server_name = server_name
    return context


def parse_uid_set(text: str) -> list[int]:
    """An IMAP uid-set ("4,7:9") as a list, in its order ("9:7" counts down, as RFC 4315 allows)."""
    uids: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        first, last = int(low), int(high or low)
        step = 1 if last >= first else -1
        uids.extend(range(first, last + step, step))
    return uids
